// IAM policy shapes and the policy answer: the `trailmint policy --json` / `GET /v1/policy` contract.

export type Condition = Record<string, Record<string, string | string[]>>;

/** Key order is part of the contract: the same input serializes to byte-identical JSON. */
export interface Statement {
  /** alphanumeric only: IAM rejects anything outside [A-Za-z0-9] */
  Sid: string;
  Effect: 'Allow';
  /** a single entry is written as a plain string, as IAM and Access Analyzer do */
  Action: string[] | string;
  Resource: string[] | string;
  Condition?: Condition;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Statement[];
}

export interface PolicyResult {
  principal: string;
  /** ISO days, inclusive */
  from: string;
  to: string;
  /** sorted: every action used in the window plus the inferred ones */
  actions: string[];
  /** sorted: actions granted although CloudTrail never names them (iam:PassRole) */
  inferred: string[];
  /** sorted: actions refused for authorization in the window; never granted */
  denied: string[];
  /** sorted: used actions the catalog lacks; granted on `*` */
  unknown: string[];
  /** each at most 6,144 characters without white space (see split.ts) */
  policies: PolicyDocument[];
}
