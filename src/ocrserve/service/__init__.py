"""The service under every face: admission (a bounded queue, deadlines, slots), the model sets it
serves, quotas and the metrics it collects; it imports no web framework."""
