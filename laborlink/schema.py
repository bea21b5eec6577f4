"""OpenAPI extensions: document the province-bound OAuth2 client-credentials scheme."""

from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme


class ProvinceClientScheme(DjangoOAuthToolkitScheme):
    target_class = "laborlink.authentication.ProvinceClientAuthentication"
    name = "provinceClient"

    def get_security_requirement(self, auto_schema):
        return {self.name: ["read"]}
