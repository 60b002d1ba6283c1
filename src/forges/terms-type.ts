/** How a forge names things Slipway shows or matches; each provider declares its own (`<forge>/terms.ts`). */
export interface ForgeTerms {
  /** `GitHub`, `GitLab`: in messages. */
  readonly displayName: string;
  /** Lower-cased request header that names the webhook's event (`x-github-event`). */
  readonly eventHeader: string;
  /** `pull request`, `merge request`. */
  readonly changeRequestName: string;
  /** What precedes a change request's number: `#12`, `!12`. */
  readonly changeRequestSymbol: string;
  /** A preview's serving tag is `<prefix>-<number>` (docs/architecture.md). */
  readonly previewTagPrefix: string;
  /** The user name an HTTPS token is sent with when fetching source (`x-access-token`, `oauth2`). */
  readonly tokenUser: string;
  /** The forge's settings a private repository is fetched with, for messages (`github.app or github.token`). */
  readonly sourceCredentials: string;
  /** Retiring a preview environment needs the deployments Slipway made (else there is nothing to retire). */
  readonly retiresByHandle: boolean;
}
