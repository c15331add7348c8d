"""MyDocs backend: a document library service (FastAPI, MongoDB index, local or Azure Blob storage)."""

__version__ = "0.1.0"
