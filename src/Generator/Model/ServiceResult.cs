namespace TypedZmq.Generator.Model;

/// <summary>What the parser makes of one [RpcService] declaration: a model to emit, diagnostics to report, or both absent.</summary>
/// <param name="Service">The service to emit, or null when the contract has errors.</param>
/// <param name="Diagnostics">The contract errors found.</param>
internal sealed record ServiceResult(ServiceModel? Service, EquatableArray<DiagnosticInfo> Diagnostics);
