// Behaviour of the sample page: shows that the script ran, loads hello.txt with fetch, and
// reports the video's progress (the browser test reads these).
"use strict";

const footer = document.getElementById("script-status");
footer.textContent = "script: ran";
footer.classList.add("ok");
document.documentElement.dataset.scriptRan = "yes";

fetch("hello.txt")
  .then((r) => r.text())
  .then((t) => {
    document.getElementById("hello").textContent = t;
  })
  .catch((e) => {
    document.getElementById("hello").textContent = `could not load hello.txt: ${e}`;
  });

const video = document.getElementById("sample");
const status = document.getElementById("video-status");
const report = (what) => {
  status.textContent = `video: ${what} (readyState ${video.readyState}, time ${video.currentTime.toFixed(2)}s)`;
};
for (const event of ["loadedmetadata", "canplay", "playing", "timeupdate", "ended", "error"]) {
  video.addEventListener(event, () => {
    report(event);
    if (event === "playing" || event === "timeupdate") status.classList.add("ok");
  });
}
video.play().catch((e) => report(`play() refused: ${e.name}`));
