"""A FastAPI app for ferry's tests: validation, dependencies, HTTPException, BackgroundTasks, a
StreamingResponse whose second piece waits for a file the test writes, and an upload."""

import asyncio
import os
from typing import Optional

from fastapi import BackgroundTasks, Depends, FastAPI, File, Header, HTTPException, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

app = FastAPI()
LOG = []


class Item(BaseModel):
    name: str
    price: float


def token(x_token: Optional[str] = Header(None)):
    if x_token != "secret":
        raise HTTPException(status_code=401, detail="bad token")
    return x_token


@app.get("/items/{item_id}")
async def read_item(item_id: int, q: Optional[str] = None, tok: str = Depends(token)):
    if item_id == 0:
        raise HTTPException(status_code=404, detail="no item 0", headers={"X-Why": "zero"})
    return {"item_id": item_id, "q": q, "token": tok}


@app.post("/items")
async def create_item(item: Item, background: BackgroundTasks):
    async def later(name):
        await asyncio.sleep(0.2)
        LOG.append("background " + name)
    LOG.append("handler " + item.name)
    background.add_task(later, item.name)
    return {"name": item.name, "price": item.price, "log": list(LOG)}


@app.get("/log")
async def log():
    return LOG


@app.get("/stream")
async def stream(gate: str):
    async def pieces():
        yield b"first;"
        while not os.path.exists(gate):
            await asyncio.sleep(0.02)
        yield b"second;"
    return StreamingResponse(pieces(), media_type="text/plain")


@app.post("/upload")
async def upload(file: UploadFile = File(...)):
    data = await file.read()
    return {"filename": file.filename, "size": len(data), "sum": sum(data)}
