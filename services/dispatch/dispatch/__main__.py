from opsdesk_shared.runtime import serve

from .main import create_app
from .settings import DispatchSettings

settings = DispatchSettings()
serve(create_app(settings), settings)
