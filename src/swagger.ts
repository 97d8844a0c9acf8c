import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ErrorBody } from './common/errors/error-body.dto';
import { PACKAGE_INFO } from './config/package-info';
import { documentPipelineResponses } from './common/openapi-conventions';
import { FALSE_POSITIVE_SUPPLIER, INTERNAL_TI_SUPPLIER } from './suppliers/built-in-suppliers';

const TOKEN_URL = '/api/v1/oauth/token';

/** Every @ApiTags name, in the order Swagger UI shows the sections. */
const TAGS: ReadonlyArray<[string, string]> = [
  ['Search', 'Is this value known-bad, who says so, and why?'],
  [
    'Suppliers',
    `Sources of indicators: the built-in ${INTERNAL_TI_SUPPLIER} and ${FALSE_POSITIVE_SUPPLIER}, and custom ones`,
  ],
  ['Indicators', "A supplier's indicators: streamed upsert, list, delete"],
  ['Feeds', 'Suppliers that Indicium pulls: a feed URL, format and schedule, its state and runs'],
  ['Tags', 'Weighted labels on indicators'],
  ['Me', 'The calling user or API client'],
  ['Users', 'People, who sign in with a username and password'],
  ['Roles', 'Built-in and custom roles, and the privilege catalogue'],
  ['API clients', 'Integrations: a client id and secret, a role and an IP allow-list'],
  ['OAuth 2.0', 'Client-credentials access tokens for API clients'],
  [
    'Sessions',
    "The console's sign-in: a session cookie for people, and the CSRF token its writes carry",
  ],
  ['Audit log', 'Append-only, hash-chained record of every change and security event'],
  [
    'Detections',
    'What searches detected (retro-scan included), hit counters and supplier statistics',
  ],
  [
    'Tenants',
    'Organisations below the acting tenant: create, suspend, offboard; X-Indicium-Tenant names the one a request acts in',
  ],
  ['SIEM integrations', 'Real-time forwarding of the audit log over syslog or a webhook'],
  ['Sharing', 'Indicators out: streamed exports and the plain-text blocklist for firewalls'],
  ['TAXII 2.1', 'Read-only TAXII 2.1 server: a collection of STIX 2.1 indicators per supplier'],
  ['Operations', 'Health probes and Prometheus metrics'],
];

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Indicium')
    .setDescription(
      [
        'Threat-intelligence API: is this value known-bad, who says so, and why?',
        '',
        "Authenticate with **HTTP Basic** (a user's `username:password`, or an API client's",
        '`clientId:clientSecret`) or with an **OAuth2 client-credentials** Bearer token.',
        'The console signs people in with a session cookie (`POST /api/v1/session`); every',
        'endpoint accepts it, and its writes carry `X-Indicium-CSRF`.',
        'Errors share one body: `{statusCode, error, message, details?, requestId}`.',
        'Lists take `limit` (1–1000, default 100) and an opaque `cursor`; responses carry `nextCursor`.',
        '',
        'The API guide, **`docs/api.md`** in the Indicium repository, explains the conventions,',
        'access rules, each resource, the matching rules and verdicts, error codes and limits.',
      ].join('\n'),
    )
    .setVersion(PACKAGE_INFO.version)
    .addServer('/', 'This server')
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
    .addCookieAuth(
      'indicium_session',
      {
        type: 'apiKey',
        in: 'cookie',
        description:
          'The console session of POST /api/v1/session (users only); writes also need X-Indicium-CSRF',
      },
      'session',
    );
  for (const [name, description] of TAGS) builder.addTag(name, description);
  const config = builder.build();
  config.info.license = { name: PACKAGE_INFO.license };
  delete config.info.contact; // DocumentBuilder's empty default says nothing
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ErrorBody] });
  documentPipelineResponses(document);
  return document;
}

/** Swagger UI at /docs, the OpenAPI document at /docs-json. */
export function setupSwagger(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'Indicium API',
    swaggerOptions: { persistAuthorization: true, displayRequestDuration: true },
  });
}
