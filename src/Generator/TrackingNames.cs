namespace TypedZmq.Generator;

/// <summary>Names of the incremental pipeline steps, so tests can assert how each step was cached.</summary>
internal static class TrackingNames
{
    public const string Services = nameof(Services);
    public const string ServiceModels = nameof(ServiceModels);
    public const string Diagnostics = nameof(Diagnostics);
}
