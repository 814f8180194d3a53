using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using Microsoft.Extensions.Options;

namespace TypedZmq.Hosting;

/// <summary>Which configuration section each named server or client was bound to, so errors can name the setting.</summary>
internal sealed class ConfigurationPaths
{
    private readonly ConcurrentDictionary<(Type, string), string> _paths = new();

    public void Record(Type options, string name, string path) => _paths[(options, name)] = path;

    /// <summary>How to name a setting in an error: its configuration key when it was bound, else its property.</summary>
    public string Setting(Type options, string name, string property) =>
        _paths.TryGetValue((options, name), out string? path) ? $"'{path}:{property}'" : $"{options.Name}.{property}";
}

/// <summary>Checks a server's settings when the host starts, with messages that name the setting.</summary>
internal sealed class ServerOptionsValidator(ConfigurationPaths paths) : IValidateOptions<TypedZmqServerOptions>
{
    public ValidateOptionsResult Validate(string? name, TypedZmqServerOptions options)
    {
        name ??= Options.DefaultName;
        var failures = new List<string>();
        string Setting(string property) => paths.Setting(typeof(TypedZmqServerOptions), name, property);

        if (EndpointProblem(options.Endpoint) is { } problem)
        {
            failures.Add($"TypedZmq server '{name}': {Setting("Endpoint")} {problem}, for example tcp://*:5555.");
        }

        Positive(failures, name, "server", options.MaxConcurrentCalls, Setting("MaxConcurrentCalls"));
        Positive(failures, name, "server", options.MaxCallsPerPeer, Setting("MaxCallsPerPeer"));
        Positive(failures, name, "server", options.MaxOpenStreams, Setting("MaxOpenStreams"));
        Positive(failures, name, "server", options.MaxOpenStreamsPerPeer, Setting("MaxOpenStreamsPerPeer"));
        if (options.StreamIdleTimeout <= TimeSpan.Zero)
        {
            failures.Add($"TypedZmq server '{name}': {Setting("StreamIdleTimeout")} is {options.StreamIdleTimeout}; it must be positive.");
        }

        Positive(failures, name, "server", options.MaxMessageSize, Setting("MaxMessageSize"));
        NotNegative(failures, name, "server", options.MaxQueuedRequests, Setting("MaxQueuedRequests"));
        NotNegative(failures, name, "server", options.ReplyCacheSize, Setting("ReplyCacheSize"));
        if (options.StopTimeout < TimeSpan.Zero)
        {
            failures.Add($"TypedZmq server '{name}': {Setting("StopTimeout")} is {options.StopTimeout}; it must not be negative.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>What is wrong with an endpoint, or null: ZeroMQ endpoints are transport://address.</summary>
    internal static string? EndpointProblem(string? endpoints)
    {
        if (string.IsNullOrWhiteSpace(endpoints))
        {
            return "is not set; it must be a ZeroMQ endpoint such as transport://address";
        }

        foreach (string endpoint in endpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int separator = endpoint.IndexOf("://", StringComparison.Ordinal);
            string transport = separator > 0 ? endpoint.Substring(0, separator) : "";
            if (transport is not ("tcp" or "inproc" or "ipc" or "pgm" or "epgm") || endpoint.Length == separator + 3)
            {
                return $"is '{endpoint}', which is not a ZeroMQ endpoint (transport://address, with tcp, inproc or ipc)";
            }
        }

        return null;
    }

    internal static void Positive(List<string> failures, string name, string what, long value, string setting)
    {
        if (value <= 0)
        {
            failures.Add($"TypedZmq {what} '{name}': {setting} is {value}; it must be positive.");
        }
    }

    internal static void NotNegative(List<string> failures, string name, string what, long value, string setting)
    {
        if (value < 0)
        {
            failures.Add($"TypedZmq {what} '{name}': {setting} is {value}; it must not be negative.");
        }
    }
}

/// <summary>Checks a client's settings when the host starts (or when its proxy is first resolved).</summary>
internal sealed class ClientOptionsValidator(ConfigurationPaths paths) : IValidateOptions<TypedZmqClientOptions>
{
    public ValidateOptionsResult Validate(string? name, TypedZmqClientOptions options)
    {
        name ??= Options.DefaultName;
        var failures = new List<string>();
        string Setting(string property) => paths.Setting(typeof(TypedZmqClientOptions), name, property);

        if (ServerOptionsValidator.EndpointProblem(options.Endpoint) is { } problem)
        {
            failures.Add($"TypedZmq client '{name}': {Setting("Endpoint")} {problem}, for example tcp://localhost:5555.");
        }

        ServerOptionsValidator.Positive(failures, name, "client", options.MaxAttempts, Setting("MaxAttempts"));
        ServerOptionsValidator.Positive(failures, name, "client", options.MaxMessageSize, Setting("MaxMessageSize"));
        if (options.Timeout <= TimeSpan.Zero && options.Timeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            failures.Add($"TypedZmq client '{name}': {Setting("Timeout")} is {options.Timeout}; it must be positive.");
        }

        if (options.RetryBackoff < TimeSpan.Zero)
        {
            failures.Add($"TypedZmq client '{name}': {Setting("RetryBackoff")} is {options.RetryBackoff}; it must not be negative.");
        }

        if (options.StreamCredit is < 1 or > 65_536)
        {
            failures.Add($"TypedZmq client '{name}': {Setting("StreamCredit")} is {options.StreamCredit}; it must be 1 to 65,536.");
        }

        if (options.MaxCallsInFlightPerServer is { } bound)
        {
            ServerOptionsValidator.Positive(failures, name, "client", bound, Setting("MaxCallsInFlightPerServer"));
        }

        if (options.LoadBalancing is not (RpcLoadBalancing.LeastInFlight or RpcLoadBalancing.RoundRobin))
        {
            failures.Add($"TypedZmq client '{name}': {Setting("LoadBalancing")} is {options.LoadBalancing}; it must be LeastInFlight or RoundRobin.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
