/** The bundle registry: upload, list, download and activate bundle versions, per tenant. */
export { loadActiveBundles, type ActiveBundle, type ActiveManifest } from './active';
export {
  BundleRegistry,
  bundleActivationChannel,
  type BundleActivation,
  type BundleSummary,
  type VersionSummary,
} from './registry';
