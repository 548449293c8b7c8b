/** The replay tests' candidate: examples/rbac's data with the viewer's `read document` grant taken away. */
export function withoutViewerDocumentRead(data: Record<string, unknown>): Record<string, unknown> {
  const grants = data.grants as Record<string, { action: string; type: string }[]>;
  return {
    ...data,
    grants: {
      ...grants,
      viewer: (grants.viewer ?? []).filter((g) => !(g.action === 'read' && g.type === 'document')),
    },
  };
}
