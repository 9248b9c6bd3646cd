from opsdesk_shared.runtime import serve

from .main import create_app
from .settings import SlaSettings

settings = SlaSettings()
serve(create_app(settings), settings)
