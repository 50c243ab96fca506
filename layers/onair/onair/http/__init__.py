"""The HTTP edge: Powertools resolvers, routes, answer models, the OpenAPI document."""
