from ninja import NinjaAPI

api = NinjaAPI(title="Chính quyền số API", version="1", urls_namespace="api")
