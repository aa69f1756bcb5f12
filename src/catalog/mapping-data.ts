// The CloudTrail → IAM tables behind mapping.ts: plain data, one test per row
// (test/unit/mapping.test.ts), every target checked against the real catalog.
//
// Sources are written as CloudTrail spells `eventSource` ("s3.amazonaws.com"); the mapper
// lower-cases them and strips ".amazonaws.com" before looking anything up. Action names may be
// written in any case: the mapper turns them into the catalog's spelling.

/** A (source, name) pair whose IAM actions differ from `prefix:eventName`. */
export interface ActionRow {
  readonly source: string;
  readonly name: string;
  readonly actions: readonly string[];
  /** why the row exists, when it is not obvious from the names */
  readonly note?: string;
}

/** A (source, name) pair that needs no IAM permission of the caller: maps to []. */
export interface NoPermissionRow {
  readonly source: string;
  readonly name: string;
  readonly why: string;
}

/** For services whose IAM actions are HTTP verbs: event names starting with `namePrefix`. */
export interface VerbRule {
  readonly source: string;
  readonly namePrefix: string;
  readonly actions: readonly string[];
}

/**
 * Event source (host without ".amazonaws.com") → IAM service prefix, where they differ.
 * Every other `xxx.amazonaws.com` maps to `xxx` when the catalog knows that prefix
 * (elasticloadbalancing, elasticfilesystem, elasticmapreduce, kinesisanalytics, ssm-incidents,
 * identitystore, sso, sso-directory, signin, health, s3-outposts, execute-api, apigateway, logs,
 * events, scheduler, securitylake, bedrock, iot*, ds, cognito-idp, cognito-identity,
 * servicediscovery, route53domains, route53resolver, states, ec2-instance-connect,
 * ssm-guiconnect, access-analyzer, ecr-public, macie2, marketplacecommerceanalytics, …).
 */
export const SOURCE_RENAMES: Readonly<Record<string, string>> = {
  monitoring: 'cloudwatch',
  tagging: 'tag',
  pinpoint: 'mobiletargeting',
  opensearchservice: 'es',
  amazonmq: 'mq',
  migrationhub: 'mgh',
  'application-insights': 'applicationinsights',
  billingconsole: 'billing',
  cloudcontrolapi: 'cloudformation',
  'contact-lens': 'connect',
  'participant-connect': 'connect',
  pricelist: 'pricing',
  'api.pricing': 'pricing',
  qconnect: 'wisdom',
  rdsdata: 'rds-data',
  'servicecatalog-appregistry': 'servicecatalog',
  taxconsole: 'tax',
  transcribestreaming: 'transcribe',
  email: 'ses',
  'streams.dynamodb': 'dynamodb',
  'models.lex': 'lex',
  'runtime.lex': 'lex',
  'models-v2-lex': 'lex',
  'runtime-v2-lex': 'lex',
  // Macie classic ("macie") is retired and gone from the catalog; its event names live on in
  // macie2 (e.g. UpdateMacieSession), so old or hand-made "macie" records still resolve.
  macie: 'macie2',
  // AWS Marketplace APIs log under one host each; the IAM actions are all aws-marketplace:*.
  'agreement-marketplace': 'aws-marketplace',
  'catalog-marketplace': 'aws-marketplace',
  'catalog.marketplace': 'aws-marketplace',
  'deployment-marketplace': 'aws-marketplace',
  'discovery-marketplace': 'aws-marketplace',
  'discovery.marketplace': 'aws-marketplace',
  'entitlement-marketplace': 'aws-marketplace',
  'entitlement.marketplace': 'aws-marketplace',
  'metering-marketplace': 'aws-marketplace',
  'metering.marketplace': 'aws-marketplace',
  'marketplace-management': 'aws-marketplace-management',
};

/** Source families: any source starting with the first string maps to the second prefix. */
export const SOURCE_FAMILY_RENAMES: readonly (readonly [string, string])[] = [
  ['chime-sdk-', 'chime'], // chime-sdk-meetings, -identity, -messaging, -voice, -media-pipelines
];

const S3 = 's3.amazonaws.com';
const S3EXPRESS = 's3express.amazonaws.com';

export const ACTION_ROWS: readonly ActionRow[] = [
  // --- S3 objects (data events) ---
  { source: S3, name: 'HeadObject', actions: ['s3:GetObject'] },
  {
    source: S3,
    name: 'GetObjectAttributes',
    actions: ['s3:GetObject', 's3:GetObjectAttributes'],
    note: 'unversioned read; a versionId request needs the *Version* pair, not visible by name',
  },
  { source: S3, name: 'SelectObjectContent', actions: ['s3:GetObject'] },
  { source: S3, name: 'CopyObject', actions: ['s3:PutObject', 's3:GetObject'] },
  { source: S3, name: 'UploadPartCopy', actions: ['s3:PutObject', 's3:GetObject'] },
  { source: S3, name: 'CreateMultipartUpload', actions: ['s3:PutObject'] },
  { source: S3, name: 'UploadPart', actions: ['s3:PutObject'] },
  { source: S3, name: 'CompleteMultipartUpload', actions: ['s3:PutObject'] },
  { source: S3, name: 'ListParts', actions: ['s3:ListMultipartUploadParts'] },
  { source: S3, name: 'DeleteObjects', actions: ['s3:DeleteObject'] },
  {
    source: S3,
    name: 'WriteGetObjectResponse',
    actions: ['s3-object-lambda:WriteGetObjectResponse'],
  },
  // --- S3 buckets: listing ---
  { source: S3, name: 'ListBuckets', actions: ['s3:ListAllMyBuckets'] },
  { source: S3, name: 'HeadBucket', actions: ['s3:ListBucket'] },
  { source: S3, name: 'ListObjects', actions: ['s3:ListBucket'] },
  { source: S3, name: 'ListObjectsV2', actions: ['s3:ListBucket'] },
  { source: S3, name: 'ListObjectVersions', actions: ['s3:ListBucketVersions'] },
  { source: S3, name: 'ListMultipartUploads', actions: ['s3:ListBucketMultipartUploads'] },
  // --- S3 bucket configuration: Get/Put/Delete → *Configuration; Delete needs the Put ---
  { source: S3, name: 'GetBucketLifecycle', actions: ['s3:GetLifecycleConfiguration'] },
  {
    source: S3,
    name: 'GetBucketLifecycleConfiguration',
    actions: ['s3:GetLifecycleConfiguration'],
  },
  { source: S3, name: 'PutBucketLifecycle', actions: ['s3:PutLifecycleConfiguration'] },
  {
    source: S3,
    name: 'PutBucketLifecycleConfiguration',
    actions: ['s3:PutLifecycleConfiguration'],
  },
  { source: S3, name: 'DeleteBucketLifecycle', actions: ['s3:PutLifecycleConfiguration'] },
  { source: S3, name: 'GetBucketReplication', actions: ['s3:GetReplicationConfiguration'] },
  { source: S3, name: 'PutBucketReplication', actions: ['s3:PutReplicationConfiguration'] },
  { source: S3, name: 'DeleteBucketReplication', actions: ['s3:PutReplicationConfiguration'] },
  { source: S3, name: 'GetBucketEncryption', actions: ['s3:GetEncryptionConfiguration'] },
  { source: S3, name: 'PutBucketEncryption', actions: ['s3:PutEncryptionConfiguration'] },
  { source: S3, name: 'DeleteBucketEncryption', actions: ['s3:PutEncryptionConfiguration'] },
  { source: S3, name: 'DeleteBucketCors', actions: ['s3:PutBucketCORS'] },
  {
    source: S3,
    name: 'GetBucketAnalyticsConfiguration',
    actions: ['s3:GetAnalyticsConfiguration'],
  },
  {
    source: S3,
    name: 'ListBucketAnalyticsConfigurations',
    actions: ['s3:GetAnalyticsConfiguration'],
  },
  {
    source: S3,
    name: 'PutBucketAnalyticsConfiguration',
    actions: ['s3:PutAnalyticsConfiguration'],
  },
  {
    source: S3,
    name: 'DeleteBucketAnalyticsConfiguration',
    actions: ['s3:PutAnalyticsConfiguration'],
  },
  {
    source: S3,
    name: 'GetBucketInventoryConfiguration',
    actions: ['s3:GetInventoryConfiguration'],
  },
  {
    source: S3,
    name: 'ListBucketInventoryConfigurations',
    actions: ['s3:GetInventoryConfiguration'],
  },
  {
    source: S3,
    name: 'PutBucketInventoryConfiguration',
    actions: ['s3:PutInventoryConfiguration'],
  },
  {
    source: S3,
    name: 'DeleteBucketInventoryConfiguration',
    actions: ['s3:PutInventoryConfiguration'],
  },
  { source: S3, name: 'GetBucketMetricsConfiguration', actions: ['s3:GetMetricsConfiguration'] },
  {
    source: S3,
    name: 'ListBucketMetricsConfigurations',
    actions: ['s3:GetMetricsConfiguration'],
  },
  { source: S3, name: 'PutBucketMetricsConfiguration', actions: ['s3:PutMetricsConfiguration'] },
  {
    source: S3,
    name: 'DeleteBucketMetricsConfiguration',
    actions: ['s3:PutMetricsConfiguration'],
  },
  {
    source: S3,
    name: 'GetBucketIntelligentTieringConfiguration',
    actions: ['s3:GetIntelligentTieringConfiguration'],
  },
  {
    source: S3,
    name: 'ListBucketIntelligentTieringConfigurations',
    actions: ['s3:GetIntelligentTieringConfiguration'],
  },
  {
    source: S3,
    name: 'PutBucketIntelligentTieringConfiguration',
    actions: ['s3:PutIntelligentTieringConfiguration'],
  },
  {
    source: S3,
    name: 'DeleteBucketIntelligentTieringConfiguration',
    actions: ['s3:PutIntelligentTieringConfiguration'],
  },
  {
    source: S3,
    name: 'GetBucketNotificationConfiguration',
    actions: ['s3:GetBucketNotification'],
  },
  {
    source: S3,
    name: 'PutBucketNotificationConfiguration',
    actions: ['s3:PutBucketNotification'],
  },
  {
    source: S3,
    name: 'GetBucketAccelerateConfiguration',
    actions: ['s3:GetAccelerateConfiguration'],
  },
  {
    source: S3,
    name: 'PutBucketAccelerateConfiguration',
    actions: ['s3:PutAccelerateConfiguration'],
  },
  {
    source: S3,
    name: 'GetObjectLockConfiguration',
    actions: ['s3:GetBucketObjectLockConfiguration'],
  },
  {
    source: S3,
    name: 'PutObjectLockConfiguration',
    actions: ['s3:PutBucketObjectLockConfiguration'],
  },
  { source: S3, name: 'DeleteBucketPublicAccessBlock', actions: ['s3:PutBucketPublicAccessBlock'] },
  {
    source: S3,
    name: 'DeleteAccountPublicAccessBlock',
    actions: ['s3:PutAccountPublicAccessBlock'],
  },
  { source: S3, name: 'DeleteBucketOwnershipControls', actions: ['s3:PutBucketOwnershipControls'] },
  { source: S3, name: 'DeleteBucketTagging', actions: ['s3:PutBucketTagging'] },
  // --- S3 directory buckets ---
  {
    source: S3EXPRESS,
    name: 'ListDirectoryBuckets',
    actions: ['s3express:ListAllMyDirectoryBuckets'],
  },
  {
    source: S3EXPRESS,
    name: 'GetBucketEncryption',
    actions: ['s3express:GetEncryptionConfiguration'],
  },
  {
    source: S3EXPRESS,
    name: 'PutBucketEncryption',
    actions: ['s3express:PutEncryptionConfiguration'],
  },
  {
    source: S3EXPRESS,
    name: 'DeleteBucketEncryption',
    actions: ['s3express:PutEncryptionConfiguration'],
  },
  {
    source: S3EXPRESS,
    name: 'GetBucketLifecycleConfiguration',
    actions: ['s3express:GetLifecycleConfiguration'],
  },
  {
    source: S3EXPRESS,
    name: 'PutBucketLifecycleConfiguration',
    actions: ['s3express:PutLifecycleConfiguration'],
  },
  {
    source: S3EXPRESS,
    name: 'DeleteBucketLifecycle',
    actions: ['s3express:PutLifecycleConfiguration'],
  },
  // --- Lambda ---
  { source: 'lambda.amazonaws.com', name: 'Invoke', actions: ['lambda:InvokeFunction'] },
  {
    source: 'lambda.amazonaws.com',
    name: 'InvokeAsync',
    actions: ['lambda:InvokeFunction'],
    note: 'the deprecated API is authorized as InvokeFunction (API reference)',
  },
  {
    source: 'lambda.amazonaws.com',
    name: 'InvokeWithResponseStream',
    actions: ['lambda:InvokeFunction'],
  },
  // --- KMS, SQS, SNS, DynamoDB ---
  {
    source: 'kms.amazonaws.com',
    name: 'ReEncrypt',
    actions: ['kms:ReEncryptFrom', 'kms:ReEncryptTo'],
  },
  { source: 'sqs.amazonaws.com', name: 'SendMessageBatch', actions: ['sqs:SendMessage'] },
  { source: 'sqs.amazonaws.com', name: 'DeleteMessageBatch', actions: ['sqs:DeleteMessage'] },
  {
    source: 'sqs.amazonaws.com',
    name: 'ChangeMessageVisibilityBatch',
    actions: ['sqs:ChangeMessageVisibility'],
  },
  { source: 'sns.amazonaws.com', name: 'PublishBatch', actions: ['sns:Publish'] },
  { source: 'dynamodb.amazonaws.com', name: 'TransactGetItems', actions: ['dynamodb:GetItem'] },
  {
    source: 'dynamodb.amazonaws.com',
    name: 'TransactWriteItems',
    actions: [
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ],
    note: 'the name does not say which item operations the transaction held: all four',
  },
  // --- Billing console pages that call the Account API ---
  {
    source: 'billingconsole.amazonaws.com',
    name: 'GetAlternateContact',
    actions: ['account:GetAlternateContact'],
  },
  {
    source: 'billingconsole.amazonaws.com',
    name: 'PutAlternateContact',
    actions: ['account:PutAlternateContact'],
  },
  {
    source: 'billingconsole.amazonaws.com',
    name: 'GetContactInformation',
    actions: ['account:GetContactInformation'],
  },
  {
    source: 'billingconsole.amazonaws.com',
    name: 'PutContactInformation',
    actions: ['account:PutContactInformation'],
  },
  // --- API Gateway operations whose verb the name does not show (see VERB_RULES) ---
  { source: 'apigateway.amazonaws.com', name: 'ImportRestApi', actions: ['apigateway:POST'] },
  { source: 'apigateway.amazonaws.com', name: 'ImportApiKeys', actions: ['apigateway:POST'] },
  { source: 'apigateway.amazonaws.com', name: 'ImportApi', actions: ['apigateway:PUT'] },
  { source: 'apigateway.amazonaws.com', name: 'ReimportApi', actions: ['apigateway:PUT'] },
  {
    source: 'apigateway.amazonaws.com',
    name: 'ImportDocumentationParts',
    actions: ['apigateway:PUT'],
  },
  {
    source: 'apigateway.amazonaws.com',
    name: 'GenerateClientCertificate',
    actions: ['apigateway:POST'],
  },
  { source: 'apigateway.amazonaws.com', name: 'TestInvokeMethod', actions: ['apigateway:POST'] },
  {
    source: 'apigateway.amazonaws.com',
    name: 'TestInvokeAuthorizer',
    actions: ['apigateway:POST'],
  },
  { source: 'apigateway.amazonaws.com', name: 'FlushStageCache', actions: ['apigateway:DELETE'] },
  {
    source: 'apigateway.amazonaws.com',
    name: 'FlushStageAuthorizersCache',
    actions: ['apigateway:DELETE'],
  },
  {
    source: 'apigateway.amazonaws.com',
    name: 'ResetAuthorizersCache',
    actions: ['apigateway:DELETE'],
  },
  { source: 'apigateway.amazonaws.com', name: 'ExportApi', actions: ['apigateway:GET'] },
  {
    source: 'apigateway.amazonaws.com',
    name: 'TagResource',
    actions: ['apigateway:POST', 'apigateway:PUT'],
    note: 'REST APIs (v1) tag with PUT, HTTP/WebSocket APIs (v2) with POST; same event source',
  },
  { source: 'apigateway.amazonaws.com', name: 'UntagResource', actions: ['apigateway:DELETE'] },
];

/** API Gateway management is authorized per HTTP verb; the event name's verb says which. */
export const VERB_RULES: readonly VerbRule[] = [
  { source: 'apigateway.amazonaws.com', namePrefix: 'Get', actions: ['apigateway:GET'] },
  { source: 'apigateway.amazonaws.com', namePrefix: 'Create', actions: ['apigateway:POST'] },
  { source: 'apigateway.amazonaws.com', namePrefix: 'Put', actions: ['apigateway:PUT'] },
  { source: 'apigateway.amazonaws.com', namePrefix: 'Update', actions: ['apigateway:PATCH'] },
  { source: 'apigateway.amazonaws.com', namePrefix: 'Delete', actions: ['apigateway:DELETE'] },
];

const CONSOLE_SIGNIN = 'console sign-in event (AwsConsoleSignIn): no IAM action of its own';
const SERVICE_EVENT = 'service event (AwsServiceEvent): AWS acted, not a caller';
const OIDC = 'IAM Identity Center OIDC call, authenticated by client secret or device code';
const PORTAL = 'IAM Identity Center portal call, authenticated by the portal bearer token';

export const NO_PERMISSION_ROWS: readonly NoPermissionRow[] = [
  { source: 'signin.amazonaws.com', name: 'ConsoleLogin', why: CONSOLE_SIGNIN },
  { source: 'signin.amazonaws.com', name: 'CheckMfa', why: CONSOLE_SIGNIN },
  { source: 'signin.amazonaws.com', name: 'ExternalIdPDirectoryLogin', why: CONSOLE_SIGNIN },
  { source: 'signin.amazonaws.com', name: 'PasswordUpdated', why: CONSOLE_SIGNIN },
  { source: 'signin.amazonaws.com', name: 'AssumeRole', why: CONSOLE_SIGNIN },
  { source: 'signin.amazonaws.com', name: 'SwitchRole', why: CONSOLE_SIGNIN },
  { source: 'signin.amazonaws.com', name: 'RenewRole', why: CONSOLE_SIGNIN },
  { source: 'signin.amazonaws.com', name: 'UserAuthentication', why: CONSOLE_SIGNIN },
  { source: 'signin.amazonaws.com', name: 'CredentialChallenge', why: CONSOLE_SIGNIN },
  { source: 'signin.amazonaws.com', name: 'CredentialVerification', why: CONSOLE_SIGNIN },
  {
    source: 'signin.amazonaws.com',
    name: 'GetSigninToken',
    why: 'federation endpoint: exchanges existing temporary credentials for a console token',
  },
  { source: 'sso.amazonaws.com', name: 'CreateToken', why: OIDC },
  { source: 'sso.amazonaws.com', name: 'RegisterClient', why: OIDC },
  { source: 'sso.amazonaws.com', name: 'StartDeviceAuthorization', why: OIDC },
  { source: 'sso-oauth.amazonaws.com', name: 'CreateToken', why: OIDC },
  { source: 'sso-oauth.amazonaws.com', name: 'RegisterClient', why: OIDC },
  { source: 'sso-oauth.amazonaws.com', name: 'StartDeviceAuthorization', why: OIDC },
  { source: 'sso.amazonaws.com', name: 'GetRoleCredentials', why: PORTAL },
  { source: 'sso.amazonaws.com', name: 'ListAccounts', why: PORTAL },
  { source: 'sso.amazonaws.com', name: 'ListAccountRoles', why: PORTAL },
  { source: 'sso.amazonaws.com', name: 'Logout', why: PORTAL },
  { source: 'sso.amazonaws.com', name: 'Federate', why: PORTAL },
  { source: 'sso.amazonaws.com', name: 'Authenticate', why: SERVICE_EVENT },
  { source: 'kms.amazonaws.com', name: 'DeleteKey', why: SERVICE_EVENT },
  { source: 'kms.amazonaws.com', name: 'RotateKey', why: SERVICE_EVENT },
  { source: 'kms.amazonaws.com', name: 'DeleteExpiredKeyMaterial', why: SERVICE_EVENT },
  { source: 'secretsmanager.amazonaws.com', name: 'RotationStarted', why: SERVICE_EVENT },
  { source: 'secretsmanager.amazonaws.com', name: 'RotationSucceeded', why: SERVICE_EVENT },
  { source: 'secretsmanager.amazonaws.com', name: 'RotationFailed', why: SERVICE_EVENT },
  { source: 'secretsmanager.amazonaws.com', name: 'RotationAbandoned', why: SERVICE_EVENT },
  { source: 'secretsmanager.amazonaws.com', name: 'StartSecretVersionDelete', why: SERVICE_EVENT },
  { source: 'secretsmanager.amazonaws.com', name: 'CancelSecretVersionDelete', why: SERVICE_EVENT },
  { source: 'secretsmanager.amazonaws.com', name: 'EndSecretVersionDelete', why: SERVICE_EVENT },
  { source: 'organizations.amazonaws.com', name: 'CreateAccountResult', why: SERVICE_EVENT },
  { source: 's3.amazonaws.com', name: 'JobStatusChanged', why: SERVICE_EVENT },
  { source: 'ec2.amazonaws.com', name: 'SharedSnapshotVolumeCreated', why: SERVICE_EVENT },
  { source: 'ec2.amazonaws.com', name: 'SharedSnapshotCopyInitiated', why: SERVICE_EVENT },
];
