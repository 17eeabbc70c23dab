"""A Flask app for ferry's gateway tests (Debian's python3-flask)."""

import io
import os

from flask import Flask, Response, jsonify, request, send_file, session, stream_with_context

app = Flask(__name__)
app.secret_key = "ferry-tests"
HERE = os.path.dirname(os.path.abspath(__file__))


@app.route("/")
def index():
    return "flask says hello"


@app.route("/json", methods=["POST"])
def json_echo():
    return jsonify(got=request.get_json(), method=request.method)


@app.route("/form", methods=["POST"])
def form():
    return jsonify(dict(request.form))


@app.route("/upload", methods=["POST"])
def upload():
    f = request.files["file"]
    data = f.read()
    return jsonify(name=f.filename, size=len(data), first=data[:8].decode("latin-1"), field=request.form.get("note"))


@app.route("/raw", methods=["POST"])
def raw():
    data = request.get_data()
    return jsonify(size=len(data), length=request.content_length, head=data[:10].decode("latin-1"))


@app.route("/stream")
def stream():
    def gen():
        for i in range(3):
            yield "chunk %d\n" % i
    return Response(stream_with_context(gen()), mimetype="text/plain")


@app.route("/file")
def file():
    return send_file(os.path.join(HERE, "plain_apps.py"), mimetype="text/x-python")


@app.route("/memfile")
def memfile():
    return send_file(io.BytesIO(b"in memory"), mimetype="text/plain", download_name="m.txt")


@app.route("/login")
def login():
    session["user"] = request.args.get("user", "anon")
    resp = Response("logged in")
    resp.set_cookie("plain", "cookie-value")
    return resp


@app.route("/whoami")
def whoami():
    return jsonify(user=session.get("user"), plain=request.cookies.get("plain"))


@app.route("/hello")
def hello():
    return "Hello world\n"
