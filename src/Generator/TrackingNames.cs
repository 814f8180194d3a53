namespace TypedZmq.Generator;

/// <summary>Names of the incremental pipeline steps, so tests can assert how each step was cached.</summary>
internal static class TrackingNames
{
    /// <summary>[RpcService] interfaces found, parsed into a model (null when the contract has errors).</summary>
    public const string Services = nameof(Services);

    /// <summary>The models of valid [RpcService] interfaces.</summary>
    public const string ServiceModels = nameof(ServiceModels);

    /// <summary>Interfaces named by [assembly: RpcServiceFor], per file.</summary>
    public const string ImportedServices = nameof(ImportedServices);

    /// <summary>The models of valid imported interfaces, once each.</summary>
    public const string ImportedServiceModels = nameof(ImportedServiceModels);

    /// <summary>The contract entries of every service, sorted (docs/versioning.md).</summary>
    public const string ContractEntries = nameof(ContractEntries);

    /// <summary>The project's contract files.</summary>
    public const string ContractFiles = nameof(ContractFiles);
}
