"""A small Flask app for ferry's Python gateway.

    deno task start --wsgi flask_app:app --wsgi-chdir examples/python --wsgi-python /usr/bin/python3
"""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/")
def index():
    return "Hello from Flask, served by ferry\n"


@app.route("/echo", methods=["POST"])
def echo():
    return jsonify(size=len(request.get_data()), type=request.content_type)


@app.route("/hello/<name>")
def hello(name):
    return jsonify(hello=name, scheme=request.scheme, client=request.remote_addr)
