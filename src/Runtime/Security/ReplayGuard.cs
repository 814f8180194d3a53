using System;
using System.Collections.Generic;

namespace TypedZmq.Security;

/// <summary>
/// Remembers which sealed requests a server has accepted, per client session, for as long as they could still pass the
/// freshness check, so that none is accepted twice. Each session keeps the highest counter seen and a 1024-bit window
/// below it (the anti-replay window of IPsec and DTLS): a counter seen before, or more than 1024 behind the highest, is
/// refused. Only authenticated requests reach it, so a forger cannot fill it. Loop thread only.
/// </summary>
internal sealed class ReplayGuard
{
    private const int WindowBits = 1024;

    private readonly long _windowMs;
    private readonly int _capacity;
    private readonly long _startedUnixMs;
    private readonly int _capacityPerKey;
    private readonly Dictionary<(RpcPublicKey Key, ulong Session), Window> _sessions = new();
    private readonly Dictionary<RpcPublicKey, int> _sessionsPerKey = new();
    private long _nextSweepUnixMs;

    public ReplayGuard(TimeSpan window, int capacity, long startedUnixMs)
    {
        _windowMs = (long)window.TotalMilliseconds;
        _capacity = capacity;
        _capacityPerKey = Math.Max(1, capacity / 10); // one key (stolen, or a client gone wrong) cannot fill the table for all
        _startedUnixMs = startedUnixMs;
        _nextSweepUnixMs = startedUnixMs + _windowMs;
    }

    public enum Verdict
    {
        Fresh,
        Replayed,
        OutsideWindow,
        BeforeStart,
        Full,
    }

    public int Count => _sessions.Count;

    /// <summary>Checks a request's nonce and, when it is fresh, remembers it.</summary>
    public Verdict Check(RpcPublicKey key, ulong session, ulong counter, long sealedUnixMs, long nowUnixMs)
    {
        if (sealedUnixMs < nowUnixMs - _windowMs || sealedUnixMs > nowUnixMs + _windowMs)
        {
            return Verdict.OutsideWindow;
        }

        if (sealedUnixMs < _startedUnixMs)
        {
            // A server that restarted has forgotten what it saw before; it refuses anything sealed before it started.
            return Verdict.BeforeStart;
        }

        if (nowUnixMs >= _nextSweepUnixMs)
        {
            Sweep(nowUnixMs);
        }

        if (!_sessions.TryGetValue((key, session), out Window? window))
        {
            _sessionsPerKey.TryGetValue(key, out int ofKey);
            if (_sessions.Count >= _capacity || ofKey >= _capacityPerKey)
            {
                return Verdict.Full;
            }

            window = new Window();
            _sessions.Add((key, session), window);
            _sessionsPerKey[key] = ofKey + 1;
        }

        if (!window.TryAccept(counter))
        {
            return Verdict.Replayed;
        }

        window.LastSealedUnixMs = Math.Max(window.LastSealedUnixMs, sealedUnixMs);
        return Verdict.Fresh;
    }

    /// <summary>Forgets sessions whose every request is now too old to pass the freshness check.</summary>
    private void Sweep(long nowUnixMs)
    {
        List<(RpcPublicKey Key, ulong Session)>? expired = null;
        foreach (KeyValuePair<(RpcPublicKey Key, ulong Session), Window> entry in _sessions)
        {
            if (entry.Value.LastSealedUnixMs < nowUnixMs - _windowMs)
            {
                (expired ??= []).Add(entry.Key);
            }
        }

        if (expired is not null)
        {
            foreach ((RpcPublicKey Key, ulong Session) entry in expired)
            {
                _sessions.Remove(entry);
                int left = _sessionsPerKey[entry.Key] - 1;
                if (left == 0)
                {
                    _sessionsPerKey.Remove(entry.Key);
                }
                else
                {
                    _sessionsPerKey[entry.Key] = left;
                }
            }
        }

        _nextSweepUnixMs = nowUnixMs + Math.Max(1000, _windowMs / 4);
    }

    private sealed class Window
    {
        private readonly ulong[] _seen = new ulong[WindowBits / 64];
        private ulong _highest;

        public long LastSealedUnixMs { get; set; } = long.MinValue;

        public bool TryAccept(ulong counter)
        {
            if (counter == 0)
            {
                return false; // senders count from 1
            }

            if (counter > _highest)
            {
                Shift(counter - _highest);
                _highest = counter;
                _seen[0] |= 1;
                return true;
            }

            ulong behind = _highest - counter;
            if (behind >= WindowBits)
            {
                return false;
            }

            ref ulong word = ref _seen[(int)(behind / 64)];
            ulong bit = 1UL << (int)(behind % 64);
            if ((word & bit) != 0)
            {
                return false;
            }

            word |= bit;
            return true;
        }

        // Bit i of the window is counter (highest - i): moving the highest up by n moves every bit n places up.
        private void Shift(ulong by)
        {
            if (by >= WindowBits)
            {
                Array.Clear(_seen);
                return;
            }

            int words = (int)(by / 64);
            int bits = (int)(by % 64);
            for (int i = _seen.Length - 1; i >= 0; i--)
            {
                ulong value = i - words >= 0 ? _seen[i - words] << bits : 0;
                if (bits > 0 && i - words - 1 >= 0)
                {
                    value |= _seen[i - words - 1] >> (64 - bits);
                }

                _seen[i] = value;
            }
        }
    }
}
