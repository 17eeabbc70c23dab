"""A FastAPI app for ferry's ASGI gateway:

    deno task start --asgi fastapi_app:app --wsgi-chdir examples/python --wsgi-python /usr/bin/python3

Path and query parameters, a JSON body validated by pydantic (422 when it is not), a dependency, an
HTTPException, a background task that runs after the response, a streamed response and an upload.
"""

import asyncio
from typing import Optional

from fastapi import BackgroundTasks, Depends, FastAPI, File, Header, HTTPException, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

app = FastAPI(title="ferry + FastAPI")
ITEMS = {}
EVENTS = []


class Item(BaseModel):
    name: str
    price: float
    tags: list = []


def caller(x_user: Optional[str] = Header(None)) -> str:
    return x_user or "anonymous"


@app.get("/hello")
async def hello():
    return {"message": "hello from FastAPI on ferry"}


@app.get("/items/{item_id}")
async def get_item(item_id: int, q: Optional[str] = None, user: str = Depends(caller)):
    if item_id not in ITEMS:
        raise HTTPException(status_code=404, detail="no item %d" % item_id)
    return {"id": item_id, "item": ITEMS[item_id], "q": q, "user": user}


@app.put("/items/{item_id}")
async def put_item(item_id: int, item: Item, background: BackgroundTasks):
    ITEMS[item_id] = item.dict()
    background.add_task(EVENTS.append, "stored %d" % item_id)
    return {"id": item_id, "stored": True}


@app.get("/events")
async def events():
    return EVENTS


@app.get("/count")
async def count(to: int = 5):
    async def numbers():
        for i in range(to):
            yield "%d\n" % i
            await asyncio.sleep(0.1)
    return StreamingResponse(numbers(), media_type="text/plain")


@app.post("/upload")
async def upload(file: UploadFile = File(...)):
    data = await file.read()
    return {"filename": file.filename, "size": len(data)}
