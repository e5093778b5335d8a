"""The REST API v2 (Mistral wire format): ``wfaas.api.app.setup_app(runtime, conf)``.

Modules: ``app`` (Pecan app and middleware), ``routing`` (the route table),
``controllers`` (one module per resource), ``resources`` (wire format),
``listing`` (pagination and filters), ``errors``/``hooks`` (faults),
``openapi`` (the generated OpenAPI 3 document).
"""
