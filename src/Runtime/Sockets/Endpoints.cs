using System;

namespace TypedZmq.Sockets;

/// <summary>Checks an endpoint's form before NetMQ sees it, so a mistake gets a message that says what is wrong.</summary>
internal static class Endpoints
{
    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="endpoint"/> is <c>transport://address</c>.</summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="parameterName">The setting it came from, for the message.</param>
    /// <param name="example">An endpoint of the right form, for the message.</param>
    public static void Validate(string endpoint, string parameterName, string example)
    {
        int separator = endpoint.IndexOf("://", StringComparison.Ordinal);
        if (separator <= 0)
        {
            throw new ArgumentException(
                $"'{endpoint}' is not a ZeroMQ endpoint: it names no transport. Write it as transport://address, for example {example}.",
                parameterName);
        }

        string transport = endpoint.Substring(0, separator);
        if (transport is not ("tcp" or "inproc" or "ipc" or "pgm" or "epgm"))
        {
            throw new ArgumentException(
                $"'{endpoint}' names the transport '{transport}', which ZeroMQ does not have. Use tcp://, inproc:// or ipc://, for example {example}.",
                parameterName);
        }

        if (endpoint.Length == separator + 3)
        {
            throw new ArgumentException($"'{endpoint}' has no address after '{transport}://'. Write it like {example}.", parameterName);
        }
    }
}
