"""The incremental build engine: the plan, the cache and its blob store, the output scan, the workers, the writer."""
