using System;
using System.Collections.Concurrent;
using NetMQ;

namespace TypedZmq.Sockets;

/// <summary>
/// How any thread hands work to the thread that owns a socket: items go into a queue, and the owner's
/// <see cref="NetMQPoller"/> is woken at most once per batch (one inproc message per batch, not per item, as a
/// <see cref="NetMQQueue{T}"/> of the items themselves would send). The owner handles the items on its own thread.
/// </summary>
/// <remarks>
/// After <see cref="Close"/> nothing is accepted: <see cref="TryPost"/> returns false at once without touching NetMQ,
/// so a late poster (an implementation that finished after its server stopped, a cancellation after a client was
/// disposed) never blocks and never throws. Whatever was posted before <see cref="Close"/> and not handled yet is left
/// for the owner to drain with <see cref="TryTake"/>.
/// </remarks>
/// <typeparam name="T">The work item.</typeparam>
internal sealed class PollerMailbox<T> : IDisposable
{
    private readonly ConcurrentQueue<T> _items = new();
    private readonly NetMQQueue<byte> _wake = new();
    private readonly Action<T> _handle;
    private readonly Action? _afterBatch;

    // Guards _closed and _wakePending, so that no post slips in after Close and no wake-up is sent to a closed queue.
    private readonly object _sync = new();
    private bool _closed;
    private bool _wakePending;

    /// <summary>Creates a mailbox whose items <paramref name="handle"/> handles on the poller thread.</summary>
    /// <param name="handle">Handles one item (on the poller thread).</param>
    /// <param name="afterBatch">Runs once after each batch of items (on the poller thread).</param>
    public PollerMailbox(Action<T> handle, Action? afterBatch = null)
    {
        _handle = handle;
        _afterBatch = afterBatch;
        _wake.ReceiveReady += OnWake;
    }

    /// <summary>Adds the mailbox's wake-up signal to the poller that owns the socket.</summary>
    public void AttachTo(NetMQPoller poller) => poller.Add(_wake);

    /// <summary>Posts an item for the owner thread. False once the mailbox is closed: the item was not taken.</summary>
    public bool TryPost(T item)
    {
        lock (_sync)
        {
            if (_closed)
            {
                return false;
            }

            _items.Enqueue(item);
            SignalLocked();
        }

        return true;
    }

    /// <summary>Wakes the owner so that it runs its after-batch step (for example to look at a stop flag).</summary>
    public void Wake()
    {
        lock (_sync)
        {
            if (!_closed)
            {
                SignalLocked();
            }
        }
    }

    /// <summary>One wake-up per batch: none is sent while one is already on its way.</summary>
    private void SignalLocked()
    {
        if (!_wakePending)
        {
            _wakePending = true;
            _wake.Enqueue(0);
        }
    }

    /// <summary>Refuses all further posts. Call before stopping the poller; then drain with <see cref="TryTake"/>.</summary>
    public void Close()
    {
        lock (_sync)
        {
            _closed = true;
        }
    }

    /// <summary>Takes an item that was posted but not handled (for the owner, after the poller stopped).</summary>
    public bool TryTake(out T item) => _items.TryDequeue(out item!);

    public void Dispose()
    {
        Close();
        _wake.Dispose();
    }

    // Poller thread.
    private void OnWake(object? sender, NetMQQueueEventArgs<byte> e)
    {
        while (e.Queue.TryDequeue(out _, TimeSpan.Zero))
        {
        }

        // Re-arm before draining: an item posted from now on sends a new wake-up, one posted before is drained below.
        lock (_sync)
        {
            _wakePending = false;
        }

        while (_items.TryDequeue(out T? item))
        {
            _handle(item);
        }

        _afterBatch?.Invoke();
    }
}
