from opsdesk_shared.runtime import serve

from .main import create_app
from .settings import ReportingSettings

settings = ReportingSettings()
serve(create_app(settings), settings)
