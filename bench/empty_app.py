"""An empty FastAPI endpoint under the same server settings: the ceiling wrk can reach on this machine."""

import sys

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.post("/api/v1/tickets", status_code=201)
async def empty() -> dict[str, str]:
    return {}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
