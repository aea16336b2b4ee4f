/**
 * Policy files to validated {@link io.jgovernor.model.Policy} records: parsing with
 * file:line:column errors ({@link io.jgovernor.policy.PolicyParser}), the host facts validation
 * needs ({@link io.jgovernor.policy.HostFacts}), who may write policy files
 * ({@link io.jgovernor.policy.FileSafety}), and the cross-file state of the policy directory
 * across refreshes, including each file's last accepted version
 * ({@link io.jgovernor.policy.PolicyCatalog}). No framework types: {@code app/} wires this.
 */
package io.jgovernor.policy;
