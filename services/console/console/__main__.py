import logging

import uvicorn

from .main import create_app
from .settings import ConsoleSettings

settings = ConsoleSettings()
logging.basicConfig(level=settings.log_level, format='{"service": "console", "level": "%(levelname)s", "msg": "%(message)s"}')
uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None, access_log=False, lifespan="on")
