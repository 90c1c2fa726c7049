// The one error the traffic compilers throw for a policy that cannot be served. The lead maps it to a
// user error code; `field` lets that error point at the offending part of the policy without parsing text.
export class TrafficPolicyError extends Error {
  override readonly name = 'TrafficPolicyError';
  /** Where in the policy the problem is, e.g. `rules[1].match[0].value` or `arms[2].weight`. */
  readonly field: string;
  /** The rule's name when the problem is inside a targeting rule that has one. */
  readonly rule: string | undefined;

  constructor(message: string, field: string, rule?: string) {
    super(message);
    this.field = field;
    this.rule = rule;
  }
}
