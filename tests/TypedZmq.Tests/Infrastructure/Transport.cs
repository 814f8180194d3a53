namespace TypedZmq.Tests.Infrastructure;

public enum Transport
{
    Tcp,
    Inproc,
}

/// <summary>
/// Base for test classes whose theories run over both transports (<c>[MemberData(nameof(Transports))]</c>), or over
/// both transports and both client channels (<c>[MemberData(nameof(Setups))]</c>).
/// </summary>
public abstract class TransportTheories
{
    public static TheoryData<Transport> Transports => [Transport.Tcp, Transport.Inproc];

    public static TheoryData<Transport, RpcChannelKind> Setups => new()
    {
        { Transport.Tcp, RpcChannelKind.Request },
        { Transport.Inproc, RpcChannelKind.Request },
        { Transport.Tcp, RpcChannelKind.Multiplexed },
        { Transport.Inproc, RpcChannelKind.Multiplexed },
    };
}
