// A single-page app's client-side router: every deep link gets index.html from ferry (the route's
// "fallback"), and this script shows the view for the path.
const views = { "/": "Home", "/dashboard/settings": "Settings" };
function show() {
  document.getElementById("view").textContent = views[location.pathname] ?? "Not found (client-side)";
}
document.addEventListener("click", (e) => {
  const a = e.target.closest("a");
  if (a === null || a.origin !== location.origin) return;
  e.preventDefault();
  history.pushState(null, "", a.pathname);
  show();
});
addEventListener("popstate", show);
show();
