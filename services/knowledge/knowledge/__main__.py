from opsdesk_shared.runtime import serve

from .main import create_app
from .settings import KnowledgeSettings

settings = KnowledgeSettings()
serve(create_app(settings), settings)
