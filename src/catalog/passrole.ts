// iam:PassRole, inferred. CloudTrail never logs PassRole itself; it is checked when a request
// hands a role to a service (Lambda's execution role, a task role, a stack's service role, …),
// so such a request that was authorized proves the caller could pass that role to that service.
// PASS_ROLE_ROWS says where each API carries the role and which service principal receives it
// (the value policies test with iam:PassedToService).
//
// Only full role ARNs (arn:<partition>:iam::<12 digits>:role/…) are taken, or a role name (with
// optional path) made into an ARN with the record's recipientAccountId where the API documents a
// name as accepted. Wildcards, users, instance profiles and anything malformed are dropped.
//
// EC2 instance profiles (RunInstances, AssociateIamInstanceProfile,
// ReplaceIamInstanceProfileAssociation): PassRole is checked on the role inside the profile,
// which the request does not name. Such a row records the profile itself (its ARN without the
// path, `arn:…:iam::<account>:instance-profile/<name>`: names are unique per account), and
// profileRoleOf() reads which role went into which profile from iam AddRoleToInstanceProfile.
// The stores keep that organization-wide table and turn a passed profile into its roles when read;
// a profile whose role was never seen added stays out of the policy (the launch is denied:
// visible), never guessed from the name and never a wildcard.
//
// Not inferred, on purpose:
// - EMR `jobFlowRole`, Batch `instanceRole`, Data Pipeline `resourceRole` (instance profiles
//   named by another service's API), EKS pod identity, Cognito identity pools, … not listed
//   here: absent rather than guessed.
//
// Hot path: one Map lookup on eventSource for every record (almost all miss), then one on the
// event name; the common case returns the shared frozen NO_PASS_ROLES.
import { partitionOf } from './resources.ts';

export interface PassRoleUse {
  role: string;
  service: string;
}

export const NO_PASS_ROLES: readonly PassRoleUse[] = Object.freeze([]);

type Rec = Record<string, unknown>;

export interface PassRoleRow {
  /** eventSource, e.g. lambda.amazonaws.com */
  source: string;
  /** event names (API-version suffixes such as CreateFunction20150331 are ignored) */
  events: readonly string[];
  /** paths into requestParameters: `a.b`, `list[].roleArn`, `*.roleARN` (every property of the object) */
  paths: readonly string[];
  /** service principal the role is passed to */
  service: string;
  /** the parameter also takes a role name or path/name (documented by the API) */
  names?: boolean;
  /** the values are EC2 instance profiles (ARN or name), recorded as the profile's ARN */
  profiles?: boolean;
  /** for shapes a path cannot say; appends raw values (ARNs or, with `names`, names) */
  extract?: (rp: Rec, out: unknown[]) => void;
}

const lambda = 'lambda.amazonaws.com';
const ecsTasks = 'ecs-tasks.amazonaws.com';
const cfn = 'cloudformation.amazonaws.com';
const glue = 'glue.amazonaws.com';
const sagemaker = 'sagemaker.amazonaws.com';
const eks = 'eks.amazonaws.com';
const ec2 = 'ec2.amazonaws.com';

export const PASS_ROLE_ROWS: readonly PassRoleRow[] = [
  {
    source: 'ec2.amazonaws.com',
    events: ['RunInstances'],
    paths: ['iamInstanceProfile.arn', 'iamInstanceProfile.name'],
    service: ec2,
    profiles: true,
  },
  {
    source: 'ec2.amazonaws.com',
    events: ['AssociateIamInstanceProfile', 'ReplaceIamInstanceProfileAssociation'],
    paths: [
      'iamInstanceProfile.arn',
      'iamInstanceProfile.name',
      '*.IamInstanceProfile.Arn',
      '*.IamInstanceProfile.Name',
    ],
    service: ec2,
    profiles: true,
  },
  {
    source: 'lambda.amazonaws.com',
    events: ['CreateFunction', 'UpdateFunctionConfiguration'],
    paths: ['role'],
    service: lambda,
  },
  {
    source: 'ecs.amazonaws.com',
    events: ['RegisterTaskDefinition'],
    paths: ['taskRoleArn', 'executionRoleArn'],
    service: ecsTasks,
    names: true, // "the short name or full ARN of the IAM role"
  },
  {
    source: 'ecs.amazonaws.com',
    events: ['RunTask', 'StartTask'],
    paths: ['overrides.taskRoleArn', 'overrides.executionRoleArn'],
    service: ecsTasks,
  },
  {
    source: 'ecs.amazonaws.com',
    events: ['CreateService'],
    paths: ['role'],
    service: 'ecs.amazonaws.com',
    names: true, // load-balancer role: a name, path/name or ARN
  },
  {
    source: 'cloudformation.amazonaws.com',
    events: [
      'CreateStack',
      'UpdateStack',
      'DeleteStack',
      'CreateChangeSet',
      'ContinueUpdateRollback',
      'RollbackStack',
    ],
    paths: ['roleARN'],
    service: cfn,
  },
  {
    source: 'cloudformation.amazonaws.com',
    events: ['CreateStackSet', 'UpdateStackSet'],
    paths: ['administrationRoleARN'],
    service: cfn,
  },
  {
    source: 'glue.amazonaws.com',
    events: [
      'CreateJob',
      'CreateCrawler',
      'UpdateCrawler',
      'CreateSession',
      'CreateMLTransform',
      'UpdateMLTransform',
    ],
    paths: ['role'],
    service: glue,
    names: true, // "the name or ARN of the IAM role"
  },
  {
    source: 'glue.amazonaws.com',
    events: ['UpdateJob'],
    paths: ['jobUpdate.role'],
    service: glue,
    names: true,
  },
  {
    source: 'glue.amazonaws.com',
    events: ['CreateDevEndpoint'],
    paths: ['roleArn'],
    service: glue,
  },
  {
    source: 'sagemaker.amazonaws.com',
    events: [
      'CreateTrainingJob',
      'CreateProcessingJob',
      'CreateNotebookInstance',
      'UpdateNotebookInstance',
      'CreateCompilationJob',
      'CreateAutoMLJob',
      'CreateAutoMLJobV2',
      'CreateLabelingJob',
      'CreatePipeline',
      'UpdatePipeline',
    ],
    paths: ['roleArn'],
    service: sagemaker,
  },
  {
    source: 'sagemaker.amazonaws.com',
    events: ['CreateModel'],
    paths: ['executionRoleArn'],
    service: sagemaker,
  },
  {
    source: 'sagemaker.amazonaws.com',
    events: ['CreateHyperParameterTuningJob'],
    paths: ['trainingJobDefinition.roleArn', 'trainingJobDefinitions[].roleArn'],
    service: sagemaker,
  },
  {
    source: 'sagemaker.amazonaws.com',
    events: ['CreateDomain', 'UpdateDomain'],
    paths: ['defaultUserSettings.executionRole'],
    service: sagemaker,
  },
  {
    source: 'sagemaker.amazonaws.com',
    events: ['CreateUserProfile', 'UpdateUserProfile'],
    paths: ['userSettings.executionRole'],
    service: sagemaker,
  },
  {
    source: 'states.amazonaws.com',
    events: ['CreateStateMachine', 'UpdateStateMachine'],
    paths: ['roleArn'],
    service: 'states.amazonaws.com',
  },
  {
    source: 'codebuild.amazonaws.com',
    events: ['CreateProject', 'UpdateProject'],
    paths: ['serviceRole'],
    service: 'codebuild.amazonaws.com',
  },
  {
    source: 'batch.amazonaws.com',
    events: ['CreateComputeEnvironment', 'UpdateComputeEnvironment'],
    paths: ['serviceRole'],
    service: 'batch.amazonaws.com',
    names: true, // "the full ARN … or the role name prefixed with its path"
  },
  {
    source: 'batch.amazonaws.com',
    events: ['CreateComputeEnvironment', 'UpdateComputeEnvironment'],
    paths: ['computeResources.spotIamFleetRole'],
    service: 'spotfleet.amazonaws.com',
  },
  {
    source: 'batch.amazonaws.com',
    events: ['RegisterJobDefinition'],
    paths: [
      'containerProperties.jobRoleArn',
      'containerProperties.executionRoleArn',
      'ecsProperties.taskProperties[].taskRoleArn',
      'ecsProperties.taskProperties[].executionRoleArn',
      'nodeProperties.nodeRangeProperties[].container.jobRoleArn',
      'nodeProperties.nodeRangeProperties[].container.executionRoleArn',
    ],
    service: ecsTasks,
  },
  {
    source: 'datapipeline.amazonaws.com',
    events: ['PutPipelineDefinition'],
    paths: [],
    service: 'datapipeline.amazonaws.com',
    names: true, // pipeline objects name roles: {key: "role", stringValue: "DataPipelineDefaultRole"}
    extract(rp, out) {
      const objects = rp.pipelineObjects;
      if (!Array.isArray(objects)) return;
      for (const o of objects) {
        const fields = isObj(o) ? o.fields : undefined;
        if (!Array.isArray(fields)) continue;
        for (const f of fields) if (isObj(f) && f.key === 'role') out.push(f.stringValue);
      }
    },
  },
  {
    source: 'events.amazonaws.com',
    events: ['PutRule'],
    paths: ['roleArn'],
    service: 'events.amazonaws.com',
  },
  {
    source: 'events.amazonaws.com',
    events: ['PutTargets'],
    paths: ['targets[].roleArn'],
    service: 'events.amazonaws.com',
  },
  {
    source: 'pipes.amazonaws.com',
    events: ['CreatePipe', 'UpdatePipe'],
    paths: ['roleArn'],
    service: 'pipes.amazonaws.com',
  },
  {
    source: 'scheduler.amazonaws.com',
    events: ['CreateSchedule', 'UpdateSchedule'],
    paths: ['target.roleArn'],
    service: 'scheduler.amazonaws.com',
  },
  {
    source: 'eks.amazonaws.com',
    events: ['CreateCluster'],
    paths: ['roleArn'],
    service: eks,
  },
  {
    // The node role is handed to EKS, which builds the instance profile itself; AWS's EKS admin
    // policy examples condition this PassRole on eks.amazonaws.com.
    source: 'eks.amazonaws.com',
    events: ['CreateNodegroup'],
    paths: ['nodeRole'],
    service: eks,
  },
  {
    source: 'eks.amazonaws.com',
    events: ['CreateFargateProfile'],
    paths: ['podExecutionRoleArn'],
    service: eks,
  },
  {
    source: 'eks.amazonaws.com',
    events: ['CreatePodIdentityAssociation', 'UpdatePodIdentityAssociation'],
    paths: ['roleArn'],
    service: 'pods.eks.amazonaws.com',
  },
  {
    source: 'rds.amazonaws.com',
    events: [
      'CreateDBInstance',
      'ModifyDBInstance',
      'CreateDBInstanceReadReplica',
      'RestoreDBInstanceFromDBSnapshot',
      'RestoreDBInstanceToPointInTime',
      'CreateDBCluster',
      'ModifyDBCluster',
    ],
    paths: ['monitoringRoleArn'],
    service: 'monitoring.rds.amazonaws.com',
  },
  {
    source: 'rds.amazonaws.com',
    events: ['AddRoleToDBInstance', 'AddRoleToDBCluster'],
    paths: ['roleArn'],
    service: 'rds.amazonaws.com',
  },
  {
    source: 'rds.amazonaws.com',
    events: ['StartExportTask'],
    paths: ['iamRoleArn'],
    service: 'export.rds.amazonaws.com',
  },
  {
    source: 'iot.amazonaws.com',
    events: ['CreateTopicRule', 'ReplaceTopicRule'],
    // Every rule action type ({s3: {roleArn}}, {kinesis: {roleArn}}, …) and the error action.
    paths: ['topicRulePayload.actions[].*.roleArn', 'topicRulePayload.errorAction.*.roleArn'],
    service: 'iot.amazonaws.com',
  },
  {
    source: 'iot.amazonaws.com',
    events: ['CreateRoleAlias', 'UpdateRoleAlias'],
    paths: ['roleArn'],
    service: 'credentials.iot.amazonaws.com',
  },
  {
    source: 'firehose.amazonaws.com',
    events: ['CreateDeliveryStream', 'UpdateDestination'],
    // extendedS3DestinationConfiguration.roleARN, kinesisStreamSourceConfiguration.roleARN, …
    paths: ['*.roleARN'],
    service: 'firehose.amazonaws.com',
  },
  {
    source: 'kinesisanalytics.amazonaws.com',
    events: ['CreateApplication'],
    paths: ['serviceExecutionRole'],
    service: 'kinesisanalytics.amazonaws.com',
  },
  {
    source: 'kinesisanalytics.amazonaws.com',
    events: ['UpdateApplication'],
    paths: ['serviceExecutionRoleUpdate'],
    service: 'kinesisanalytics.amazonaws.com',
  },
  {
    source: 'codepipeline.amazonaws.com',
    events: ['CreatePipeline', 'UpdatePipeline'],
    paths: ['pipeline.roleArn'],
    service: 'codepipeline.amazonaws.com',
  },
  {
    source: 'elasticmapreduce.amazonaws.com',
    events: ['RunJobFlow'],
    paths: ['serviceRole'], // jobFlowRole is an instance profile: see the header
    service: 'elasticmapreduce.amazonaws.com',
    names: true,
  },
  {
    source: 'appsync.amazonaws.com',
    events: ['CreateDataSource', 'UpdateDataSource'],
    paths: ['serviceRoleArn'],
    service: 'appsync.amazonaws.com',
  },
  {
    source: 'appsync.amazonaws.com',
    events: ['CreateGraphqlApi', 'UpdateGraphqlApi'],
    paths: ['logConfig.cloudWatchLogsRoleArn'],
    service: 'appsync.amazonaws.com',
  },
  {
    source: 'apigateway.amazonaws.com',
    events: ['UpdateAccount'],
    paths: [],
    service: 'apigateway.amazonaws.com',
    // {patchOperations: [{op: "replace", path: "/cloudwatchRoleArn", value: ARN}]}
    extract(rp, out) {
      const ops = rp.patchOperations;
      if (!Array.isArray(ops)) return;
      for (const op of ops) if (isObj(op) && op.path === '/cloudwatchRoleArn') out.push(op.value);
    },
  },
  {
    source: 'apigateway.amazonaws.com',
    events: ['PutIntegration', 'CreateIntegration', 'UpdateIntegration'],
    // REST (v1) credentials, HTTP/WebSocket (v2) credentialsArn; caller-credential pass-through
    // ("arn:aws:iam::*:user/*") is not a role and is dropped.
    paths: ['credentials', 'credentialsArn'],
    service: 'apigateway.amazonaws.com',
  },
  {
    source: 'dms.amazonaws.com',
    events: ['CreateEndpoint', 'ModifyEndpoint'],
    paths: ['serviceAccessRoleArn', '*.serviceAccessRoleArn'],
    service: 'dms.amazonaws.com',
  },
  {
    source: 'datasync.amazonaws.com',
    events: ['CreateLocationS3'],
    paths: ['s3Config.bucketAccessRoleArn'],
    service: 'datasync.amazonaws.com',
  },
  {
    source: 'config.amazonaws.com',
    events: ['PutConfigurationRecorder'],
    paths: ['configurationRecorder.roleARN'],
    service: 'config.amazonaws.com',
  },
  {
    source: 'cloudtrail.amazonaws.com',
    events: ['CreateTrail', 'UpdateTrail'],
    paths: ['cloudWatchLogsRoleArn'],
    service: 'cloudtrail.amazonaws.com',
  },
  {
    source: 'rolesanywhere.amazonaws.com',
    events: ['CreateProfile', 'UpdateProfile'],
    paths: ['roleArns[]'],
    service: 'rolesanywhere.amazonaws.com',
  },
  {
    source: 'ssm.amazonaws.com',
    events: ['SendCommand', 'RegisterTaskWithMaintenanceWindow', 'UpdateMaintenanceWindowTask'],
    paths: ['serviceRoleArn'], // SNS notifications of the command / the task's service role
    service: 'ssm.amazonaws.com',
  },
  {
    source: 'autoscaling.amazonaws.com',
    events: ['CreateAutoScalingGroup', 'UpdateAutoScalingGroup'],
    paths: ['serviceLinkedRoleARN'],
    service: 'autoscaling.amazonaws.com',
  },
  {
    source: 'autoscaling.amazonaws.com',
    events: ['PutLifecycleHook'],
    paths: ['roleARN'],
    service: 'autoscaling.amazonaws.com',
  },
  {
    source: 'redshift.amazonaws.com',
    events: ['CreateCluster', 'ModifyClusterIamRoles'],
    paths: ['iamRoles[]', 'addIamRoles[]', 'defaultIamRoleArn'],
    service: 'redshift.amazonaws.com',
  },
  {
    source: 'backup.amazonaws.com',
    events: ['StartBackupJob', 'StartRestoreJob'],
    paths: ['iamRoleArn'],
    service: 'backup.amazonaws.com',
  },
  {
    source: 'backup.amazonaws.com',
    events: ['CreateBackupSelection'],
    paths: ['backupSelection.iamRoleArn'],
    service: 'backup.amazonaws.com',
  },
  {
    source: 'cognito-idp.amazonaws.com',
    events: ['CreateUserPool', 'UpdateUserPool'],
    paths: ['smsConfiguration.snsCallerArn'],
    service: 'cognito-idp.amazonaws.com',
  },
  {
    source: 'sns.amazonaws.com',
    events: ['SetTopicAttributes'],
    paths: [],
    service: 'sns.amazonaws.com',
    // Delivery-status logging: attributeName LambdaSuccessFeedbackRoleArn, HTTPFailureFeedbackRoleArn, …
    extract(rp, out) {
      const name = rp.attributeName;
      if (typeof name === 'string' && name.endsWith('FeedbackRoleArn')) out.push(rp.attributeValue);
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Compiled tables.

interface Segment {
  /** property name, or '*' for every property of an object */
  key: string;
  /** the value is an array: walk each element */
  each: boolean;
}

interface CompiledRow {
  row: PassRoleRow;
  paths: readonly (readonly Segment[])[];
}

function compilePath(path: string): Segment[] {
  return path.split('.').map((part) => {
    const each = part.endsWith('[]');
    return { key: each ? part.slice(0, -2) : part, each };
  });
}

/** eventSource → eventName → rows */
const TABLE = new Map<string, Map<string, CompiledRow[]>>();
for (const row of PASS_ROLE_ROWS) {
  let byName = TABLE.get(row.source);
  if (byName === undefined) TABLE.set(row.source, (byName = new Map()));
  const compiled: CompiledRow = { row, paths: row.paths.map(compilePath) };
  for (const name of row.events) {
    let list = byName.get(name);
    if (list === undefined) byName.set(name, (list = []));
    list.push(compiled);
  }
}

const VERSION_SUFFIX = /(\d{8}(v\d+)?|\d{4}_\d{2}_\d{2})$/;
const ROLE_ARN = /^arn:aws[a-z0-9-]{0,24}:iam::\d{12}:role\/[\w+=,.@\-/]+$/;
const ROLE_NAME = /^\/?[\w+=,.@-]+(\/[\w+=,.@-]+)*$/;
const ACCOUNT = /^\d{12}$/;
const MAX_ROLE_ARN = 2048;

function isObj(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function walk(v: unknown, path: readonly Segment[], at: number, out: unknown[]): void {
  if (at === path.length) {
    out.push(v);
    return;
  }
  if (!isObj(v)) return;
  const seg = path[at];
  if (seg.key === '*') {
    for (const key in v) walk(v[key], path, at + 1, out);
    return;
  }
  const next = v[seg.key];
  if (!seg.each) walk(next, path, at + 1, out);
  else if (Array.isArray(next)) for (const item of next) walk(item, path, at + 1, out);
}

// Reused across calls (single-threaded per worker).
const scratch: unknown[] = [];

const PROFILE_ARN =
  /^arn:aws[a-z0-9-]{0,24}:iam::(\d{12}):instance-profile\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;
/** An IAM instance profile or role name (no path). */
const IAM_NAME = /^[\w+=,.@-]{1,128}$/;

function accountOf(record: Rec): string | undefined {
  const account = record.recipientAccountId;
  return typeof account === 'string' && ACCOUNT.test(account) ? account : undefined;
}

function partitionOfRecord(record: Rec): string {
  return partitionOf(record, typeof record.awsRegion === 'string' ? record.awsRegion : '');
}

/** `arn:<partition>:iam::<account>:instance-profile/<name>`: the key a profile goes by here. */
export function profileArn(partition: string, account: string, name: string): string {
  return 'arn:' + partition + ':iam::' + account + ':instance-profile/' + name;
}

/** An instance profile ARN (any path) or name → its path-less ARN, or undefined. */
function profileOf(v: unknown, record: Rec): string | undefined {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ROLE_ARN) return undefined;
  if (v.startsWith('arn:')) {
    const m = PROFILE_ARN.exec(v);
    return m ? profileArn(v.slice(4, v.indexOf(':', 4)), m[1], m[2]) : undefined;
  }
  const account = accountOf(record);
  if (account === undefined || !IAM_NAME.test(v)) return undefined;
  return profileArn(partitionOfRecord(record), account, v);
}

/** Whether a recorded PassRole target is an instance profile (the stores resolve it to roles). */
export function isProfileArn(role: string): boolean {
  return role.includes(':instance-profile/');
}

export interface ProfileRole {
  /** path-less instance profile ARN (profileArn) */
  profile: string;
  /** role ARN (role names in this API carry no path: `role/<name>`) */
  role: string;
}

/**
 * iam AddRoleToInstanceProfile → which role went into which profile, or undefined for any other
 * record. Only for a request that succeeded (the caller checks the outcome).
 */
export function profileRoleOf(record: Rec): ProfileRole | undefined {
  if (record.eventName !== 'AddRoleToInstanceProfile') return undefined;
  if (record.eventSource !== 'iam.amazonaws.com') return undefined;
  const rp = record.requestParameters;
  if (!isObj(rp)) return undefined;
  const name = rp.instanceProfileName;
  const role = rp.roleName;
  const account = accountOf(record);
  if (typeof name !== 'string' || !IAM_NAME.test(name)) return undefined;
  if (typeof role !== 'string' || !IAM_NAME.test(role) || account === undefined) return undefined;
  const partition = partitionOfRecord(record);
  return {
    profile: profileArn(partition, account, name),
    role: roleArn(partition, account, role),
  };
}

function roleOf(v: unknown, names: boolean, record: Rec): string | undefined {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ROLE_ARN) return undefined;
  if (v.startsWith('arn:')) return ROLE_ARN.test(v) ? v : undefined;
  if (!names || !ROLE_NAME.test(v)) return undefined;
  const account = accountOf(record);
  if (account === undefined) return undefined;
  const name = v.charCodeAt(0) === 47 /* / */ ? v.slice(1) : v;
  return roleArn(partitionOfRecord(record), account, name);
}

function roleArn(partition: string, account: string, nameWithPath: string): string {
  return 'arn:' + partition + ':iam::' + account + ':role/' + nameWithPath;
}

/** False when passRolesOf finds nothing in any record of this event (its table has no row). */
export function passRoleEvent(source: string, name: string): boolean {
  const byName = TABLE.get(source);
  return byName !== undefined && (byName.has(name) || byName.has(name.replace(VERSION_SUFFIX, '')));
}

export function passRolesOf(record: Record<string, unknown>): readonly PassRoleUse[] {
  const source = record.eventSource;
  if (typeof source !== 'string') return NO_PASS_ROLES;
  const byName = TABLE.get(source);
  if (byName === undefined) return NO_PASS_ROLES;
  const name = record.eventName;
  if (typeof name !== 'string') return NO_PASS_ROLES;
  const rows = byName.get(name) ?? byName.get(name.replace(VERSION_SUFFIX, ''));
  if (rows === undefined) return NO_PASS_ROLES;
  const rp = record.requestParameters;
  if (!isObj(rp)) return NO_PASS_ROLES;

  let out: PassRoleUse[] | undefined;
  for (const { row, paths } of rows) {
    scratch.length = 0;
    for (const path of paths) walk(rp, path, 0, scratch);
    if (row.extract !== undefined) {
      try {
        row.extract(rp, scratch);
      } catch {
        // A row's reader failing on odd input drops its values: no inference beats a wrong one.
      }
    }
    for (let i = 0; i < scratch.length; i++) {
      const role =
        row.profiles === true
          ? profileOf(scratch[i], record)
          : roleOf(scratch[i], row.names === true, record);
      if (role === undefined) continue;
      const service = row.service;
      if (out === undefined) out = [];
      else if (out.some((u) => u.role === role && u.service === service)) continue;
      out.push({ role, service });
    }
  }
  scratch.length = 0;
  return out ?? NO_PASS_ROLES;
}
