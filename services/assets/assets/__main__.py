from opsdesk_shared.runtime import serve

from .main import create_app
from .settings import AssetsSettings

settings = AssetsSettings()
serve(create_app(settings), settings)
