using System;
using MemoryPack;

namespace TypedZmq.Protocol;

/// <summary>MemoryPack encoding of single values and of the error body, shared by client and server.</summary>
internal static class PayloadCodec
{
    public static void WriteValue<T>(PayloadBuffer buffer, T value)
    {
        using var state = MemoryPackWriterOptionalStatePool.Rent(MemoryPackSerializerOptions.Default);
        var writer = new MemoryPackWriter<PayloadBuffer>(ref buffer, state);
        writer.WriteValue(value);
        writer.Flush();
    }

    /// <summary>Reads one value starting at <paramref name="offset"/> and moves the offset past it.</summary>
    public static T? ReadValue<T>(ReadOnlySpan<byte> payload, ref int offset)
    {
        using var state = MemoryPackReaderOptionalStatePool.Rent(MemoryPackSerializerOptions.Default);
        var reader = new MemoryPackReader(payload.Slice(offset), state);
        try
        {
            T? value = reader.ReadValue<T>();
            offset += reader.Consumed;
            return value;
        }
        finally
        {
            reader.Dispose();
        }
    }

    /// <summary>Error body: three MemoryPack strings in a row (exception type, message, detail), each may be null.</summary>
    public static void WriteError(PayloadBuffer buffer, string? exceptionType, string message, string? detail)
    {
        using var state = MemoryPackWriterOptionalStatePool.Rent(MemoryPackSerializerOptions.Default);
        var writer = new MemoryPackWriter<PayloadBuffer>(ref buffer, state);
        writer.WriteString(exceptionType);
        writer.WriteString(message);
        writer.WriteString(detail);
        writer.Flush();
    }

    public static bool TryReadError(ReadOnlySpan<byte> payload, out string? exceptionType, out string? message, out string? detail)
    {
        if (!PayloadCheck.IsReadableErrorBody(payload))
        {
            exceptionType = null;
            message = null;
            detail = null;
            return false;
        }

        try
        {
            using var state = MemoryPackReaderOptionalStatePool.Rent(MemoryPackSerializerOptions.Default);
            var reader = new MemoryPackReader(payload, state);
            try
            {
                exceptionType = reader.ReadString();
                message = reader.ReadString();
                detail = reader.Remaining > 0 ? reader.ReadString() : null;
                return true;
            }
            finally
            {
                reader.Dispose();
            }
        }
#pragma warning disable CA1031 // A malformed error body from a foreign peer must not mask the error itself.
        catch (Exception)
#pragma warning restore CA1031
        {
            exceptionType = null;
            message = null;
            detail = null;
            return false;
        }
    }
}
