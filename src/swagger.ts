import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

export const TOKEN_URL = '/api/v1/oauth/token';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Indicium')
    .setDescription(
      [
        'Threat-intelligence API: is this value known-bad, who says so, and why?',
        '',
        "Authenticate with **HTTP Basic** (a user's `username:password`, or an API client's",
        '`clientId:clientSecret`) or with an **OAuth2 client-credentials** Bearer token.',
        'Errors share one body: `{statusCode, error, message, details?, requestId}`.',
        'Lists take `limit` (1–1000, default 100) and an opaque `cursor`; responses carry `nextCursor`.',
      ].join('\n'),
    )
    .setVersion(process.env.npm_package_version ?? '0.1.0')
    .addBasicAuth(
      { type: 'http', scheme: 'basic', description: 'username:password or clientId:clientSecret' },
      'basic',
    )
    .addOAuth2(
      {
        type: 'oauth2',
        description: 'OAuth 2.0 client credentials of an API client',
        flows: { clientCredentials: { tokenUrl: TOKEN_URL, scopes: {} } },
      },
      'oauth2',
    )
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Swagger UI at /docs, the OpenAPI document at /docs-json. */
export function setupSwagger(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'Indicium API',
    swaggerOptions: { persistAuthorization: true, displayRequestDuration: true },
  });
}
