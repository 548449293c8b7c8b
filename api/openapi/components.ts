/**
 * The named schemas of the OpenAPI document (`#/components/schemas`): every request body, from
 * the ajv schemas the routes validate with (converted to JSON Schema 2020-12), and every
 * answer, from api/schemas/responses. The document refers to a schema by name wherever the
 * same object appears inside another schema or in the route table.
 */
import { createApiKeySchema, createTenantSchema, updateTenantSchema } from '../schemas/admin';
import { consoleSignInSchema } from '../schemas/console';
import { activateBundleSchema, signingKeySchema } from '../schemas/bundles';
import { batchRequestSchema, caslRulesRequestSchema, decisionRequestSchema } from '../schemas/data';
import {
  changePasswordSchema,
  createUserSchema,
  loginSchema,
  mfaConfirmSchema,
  mfaSchema,
  passwordConfirmSchema,
  passwordSetupSchema,
  refreshSchema,
} from '../schemas/identity';
import { fromAjvSchema, type JsonSchema } from '../schemas/json-schema';
import {
  bundleListSchema,
  bundleSchema,
  bundleVersionListSchema,
  bundleVersionSchema,
  signingSettingsSchema,
} from '../schemas/responses/bundles';
import { caslRulesSchema } from '../schemas/responses/casl';
import { consoleSessionSchema } from '../schemas/responses/console';
import { batchResultSchema, decisionResultSchema } from '../schemas/responses/data';
import {
  chainVerificationSchema,
  decisionPageSchema,
  decisionRecordSchema,
  decisionStatsSchema,
} from '../schemas/responses/decision-log';
import { liveSchema, readySchema } from '../schemas/responses/health';
import {
  createdUserSchema,
  jwksSchema,
  loginResultSchema,
  mfaConfirmedSchema,
  mfaDisabledSchema,
  mfaEnrolmentSchema,
  recoveryCodesSchema,
  sessionListSchema,
  tokenPairSchema,
  userListSchema,
  userSchema,
} from '../schemas/responses/identity';
import { problemSchema, problemsByStatus } from '../schemas/responses/problem';
import { replayReportSchema } from '../schemas/responses/replay';
import {
  bundleRolloutsSchema,
  rolloutReportListSchema,
  rolloutReportSchema,
  rolloutSchema,
} from '../schemas/responses/rollouts';
import {
  apiKeyListSchema,
  apiKeySchema,
  newApiKeySchema,
  tenantListSchema,
  tenantSchema,
} from '../schemas/responses/tenants';
import { startRolloutSchema } from '../schemas/rollouts';

/** Request bodies, by component name. */
export const requestBodies = {
  CreateTenantRequest: fromAjvSchema(createTenantSchema),
  UpdateTenantRequest: fromAjvSchema(updateTenantSchema),
  CreateApiKeyRequest: fromAjvSchema(createApiKeySchema),
  ActivateBundleRequest: fromAjvSchema(activateBundleSchema),
  SigningKeyRequest: fromAjvSchema(signingKeySchema),
  StartRolloutRequest: fromAjvSchema(startRolloutSchema),
  LoginRequest: fromAjvSchema(loginSchema),
  MfaRequest: fromAjvSchema(mfaSchema),
  RefreshRequest: fromAjvSchema(refreshSchema),
  PasswordSetupRequest: fromAjvSchema(passwordSetupSchema),
  ChangePasswordRequest: fromAjvSchema(changePasswordSchema),
  CreateUserRequest: fromAjvSchema(createUserSchema),
  MfaConfirmRequest: fromAjvSchema(mfaConfirmSchema),
  PasswordConfirmRequest: fromAjvSchema(passwordConfirmSchema),
  ConsoleSignInRequest: fromAjvSchema(consoleSignInSchema),
  DecisionRequest: decisionRequestSchema,
  BatchRequest: batchRequestSchema,
  CaslRulesRequest: caslRulesRequestSchema,
} as const satisfies Record<string, JsonSchema>;

/** Every named schema of the document. */
export const componentSchemas: Readonly<Record<string, JsonSchema>> = {
  Problem: problemSchema,
  ...Object.fromEntries(
    [...problemsByStatus].map(([status, schema]) => [`Problem${status}`, schema]),
  ),
  Live: liveSchema,
  Ready: readySchema,
  DecisionResult: decisionResultSchema,
  BatchResult: batchResultSchema,
  CaslRules: caslRulesSchema,
  Tenant: tenantSchema,
  TenantList: tenantListSchema,
  ApiKey: apiKeySchema,
  NewApiKey: newApiKeySchema,
  ApiKeyList: apiKeyListSchema,
  BundleVersion: bundleVersionSchema,
  BundleVersionList: bundleVersionListSchema,
  Bundle: bundleSchema,
  BundleList: bundleListSchema,
  SigningSettings: signingSettingsSchema,
  Rollout: rolloutSchema,
  RolloutReport: rolloutReportSchema,
  RolloutReportList: rolloutReportListSchema,
  BundleRollouts: bundleRolloutsSchema,
  ReplayReport: replayReportSchema,
  DecisionRecord: decisionRecordSchema,
  DecisionPage: decisionPageSchema,
  ChainVerification: chainVerificationSchema,
  DecisionStats: decisionStatsSchema,
  User: userSchema,
  UserList: userListSchema,
  CreatedUser: createdUserSchema,
  LoginResult: loginResultSchema,
  TokenPair: tokenPairSchema,
  SessionList: sessionListSchema,
  MfaEnrolment: mfaEnrolmentSchema,
  MfaConfirmed: mfaConfirmedSchema,
  RecoveryCodes: recoveryCodesSchema,
  MfaDisabled: mfaDisabledSchema,
  Jwks: jwksSchema,
  ConsoleSession: consoleSessionSchema,
  ...requestBodies,
};
