namespace TypedZmq.Tests.Infrastructure;

public enum Transport
{
    Tcp,
    Inproc,
}
