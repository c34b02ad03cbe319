"""The back service: a FastAPI app, traced by opentelemetry-instrument alone (no tracing
code here). Run as `opentelemetry-instrument uvicorn harness.web_services.items:app`.

    GET /items/{item_id}        a JSON answer
    GET /stream?chunks=N        a streamed answer of N chunks
    GET /slow?seconds=S         answers after S seconds
"""

import asyncio
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()


@app.get("/items/{item_id}")
async def item(item_id: int) -> dict:
    return {"item_id": item_id, "name": f"item {item_id}"}


@app.get("/stream")
async def stream(chunks: int) -> StreamingResponse:
    async def lines() -> AsyncIterator[bytes]:
        for number in range(chunks):
            yield f"chunk {number}\n".encode()

    return StreamingResponse(lines(), media_type="text/plain")


@app.get("/slow")
async def slow(seconds: float) -> dict:
    await asyncio.sleep(seconds)
    return {"slept": seconds}
