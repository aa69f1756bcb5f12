// JSON-schema fragments shared by the v1 routes: one definition of a window query and of a
// policy document, so the routes cannot drift apart.

// Dates are checked by the handler (isoToDay), so the 400 says which one is wrong and how.
export const WINDOW_PROPERTIES = {
  principal: { type: 'string', minLength: 1, maxLength: 2048 },
  from: { type: 'string', maxLength: 64 },
  to: { type: 'string', maxLength: 64 },
} as const;

/** `?principal=&from=&to=`, nothing else. */
export const WINDOW_QUERY = {
  type: 'object',
  additionalProperties: false,
  required: ['principal'],
  properties: WINDOW_PROPERTIES,
} as const;

export const STRINGS = { type: 'array', items: { type: 'string' } } as const;

// Action and Resource are a string or a list; Condition is free-form: JSON.stringify keeps them.
export const POLICY_DOCUMENT = {
  type: 'object',
  properties: {
    Version: { type: 'string' },
    Statement: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          Sid: { type: 'string' },
          Effect: { type: 'string' },
          Action: {},
          Resource: {},
          Condition: {},
        },
      },
    },
  },
} as const;
