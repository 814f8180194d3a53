using System.Buffers;
using System.Runtime.InteropServices;

namespace TypedZmq.PayloadFuzzer;

/// <summary>
/// A buffer between two inaccessible pages: a payload copied to its end (or its start) is followed (or preceded) by
/// memory the process may not touch, so reading even one byte past the message, or moving back before it, is a
/// segmentation fault at once instead of a silent read of whatever lies next to it. Linux only (mmap, mprotect).
/// </summary>
internal sealed unsafe class GuardedMemory : MemoryManager<byte>
{
    private const int ProtNone = 0;
    private const int ProtRead = 1;
    private const int ProtWrite = 2;
    private const int MapPrivate = 0x02;
    private const int MapAnonymous = 0x20;

    private readonly nint _region;
    private readonly nuint _regionSize;
    private readonly byte* _usable;
    private readonly int _usableSize;
    private byte* _start;
    private int _length;

    public GuardedMemory(int capacity)
    {
        int page = Environment.SystemPageSize;
        _usableSize = ((capacity + page - 1) / page) * page;
        _regionSize = (nuint)(_usableSize + (2 * page));
        _region = mmap(0, _regionSize, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (_region == -1)
        {
            throw new InvalidOperationException("mmap failed: " + Marshal.GetLastPInvokeError());
        }

        _usable = (byte*)_region + page;
        if (mprotect(_region, (nuint)page, ProtNone) != 0 || mprotect((nint)(_usable + _usableSize), (nuint)page, ProtNone) != 0)
        {
            throw new InvalidOperationException("mprotect failed: " + Marshal.GetLastPInvokeError());
        }
    }

    public int Capacity => _usableSize;

    /// <summary>Copies <paramref name="payload"/> flush against the trailing guard page, or the leading one.</summary>
    public Memory<byte> Place(ReadOnlySpan<byte> payload, bool atEnd)
    {
        if (payload.Length > _usableSize)
        {
            throw new ArgumentException("payload larger than the guarded buffer", nameof(payload));
        }

        _start = atEnd ? _usable + _usableSize - payload.Length : _usable;
        _length = payload.Length;
        payload.CopyTo(new Span<byte>(_start, _length));
        return Memory;
    }

    public override Span<byte> GetSpan() => new(_start, _length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(_start + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing) => munmap(_region, _regionSize);

    [DllImport("libc", SetLastError = true)]
    private static extern nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [DllImport("libc", SetLastError = true)]
    private static extern int mprotect(nint addr, nuint len, int prot);

    [DllImport("libc", SetLastError = true)]
    private static extern int munmap(nint addr, nuint length);
}
