namespace TypedZmq.Tests.Infrastructure;

public enum Transport
{
    Tcp,
    Inproc,
}

/// <summary>Base for test classes whose theories run over both transports: <c>[MemberData(nameof(Transports))]</c>.</summary>
public abstract class TransportTheories
{
    public static TheoryData<Transport> Transports => [Transport.Tcp, Transport.Inproc];
}
