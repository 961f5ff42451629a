using Floodgate.Grains.Limiting;
using Floodgate.Limiting;
using Microsoft.Extensions.Time.Testing;

namespace Floodgate.Tests.Limiting;

/// <summary>
/// Waiters whose call ended ("still queued") keep their place until their caller comes back, and what callers leave
/// behind is dropped after the grace time: a waiter nobody calls for, and a grant nobody picks up.
/// </summary>
public sealed class PermitLedgerDetachedWaiterTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);
    private readonly FakeTimeProvider _time = new();

    private PermitLedger CreateSut(int limit)
    {
        var ledger = new PermitLedger("test", _time);
        ledger.SetMaxConcurrency(limit);
        return ledger;
    }

    [Fact]
    public void Detach_ThenAnotherWaiterQueues_DetachedOneKeepsItsPlaceAndIsGrantedFirst()
    {
        var ledger = CreateSut(1);
        var held = ledger.TryAcquire("a", 1, Ttl)!;
        var first = ledger.Enqueue("b", 1, Ttl, requestId: "r1", wait: TimeSpan.FromMinutes(1));
        ledger.Detach(first);
        var second = ledger.Enqueue("b", 1, Ttl, requestId: "r2", wait: TimeSpan.FromMinutes(1));

        ledger.Release(held.LeaseId);

        Assert.True(first.Task.IsCompletedSuccessfully);
        Assert.False(second.Task.IsCompleted);
        Assert.Same(first, ledger.WaiterOf("r1") ?? first);
        Assert.Equal(first.Task.Result, ledger.LeaseOf("r1"));
    }

    [Fact]
    public void DropAbandoned_DetachedLongerThanGrace_RemovesWaiterAndGrantsTheNext()
    {
        var ledger = CreateSut(1);
        var held = ledger.TryAcquire("a", 1, Ttl)!;
        var gone = ledger.Enqueue("b", 1, Ttl, requestId: "gone", wait: TimeSpan.FromMinutes(1));
        ledger.Detach(gone);
        var next = ledger.Enqueue("c", 1, Ttl, requestId: "next", wait: TimeSpan.FromMinutes(1));

        _time.Advance(Grace - TimeSpan.FromMilliseconds(1));
        Assert.Equal((0, 0), ledger.DropAbandoned(Grace));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal((1, 0), ledger.DropAbandoned(Grace));
        ledger.Release(held.LeaseId);

        Assert.True(gone.Task.IsCanceled);
        Assert.Null(ledger.WaiterOf("gone"));
        Assert.True(next.Task.IsCompletedSuccessfully);
        Assert.Equal(1, ledger.InUse);
    }

    [Fact]
    public void DropAbandoned_AttachedWaiter_IsKeptWhateverItsAge()
    {
        var ledger = CreateSut(1);
        ledger.TryAcquire("a", 1, Ttl);
        var waiter = ledger.Enqueue("b", 1, Ttl, requestId: "r", wait: TimeSpan.FromMinutes(10));
        ledger.Detach(waiter);
        _time.Advance(Grace / 2);
        waiter.Attach();
        _time.Advance(Grace * 3);

        Assert.Equal((0, 0), ledger.DropAbandoned(Grace));
        Assert.Equal(1, ledger.Waiting);
    }

    [Fact]
    public void DropAbandoned_DetachedWaiterPastItsDeadline_CountsAsTimeout()
    {
        var ledger = CreateSut(1);
        ledger.TryAcquire("a", 1, Ttl);
        var waiter = ledger.Enqueue("b", 1, Ttl, requestId: "r", wait: TimeSpan.FromSeconds(2));
        ledger.Detach(waiter);
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal((1, 0), ledger.DropAbandoned(Grace));
        Assert.Equal(1, ledger.Timeouts);
        Assert.Equal(0, ledger.Waiting);
    }

    [Fact]
    public void DropAbandoned_GrantToDetachedWaiterNeverPickedUp_IsReleased()
    {
        var ledger = CreateSut(1);
        var held = ledger.TryAcquire("a", 1, Ttl)!;
        var waiter = ledger.Enqueue("b", 1, Ttl, requestId: "r", wait: TimeSpan.FromMinutes(1));
        ledger.Detach(waiter);
        ledger.Release(held.LeaseId);
        Assert.Equal(1, ledger.InUse);

        _time.Advance(Grace);

        Assert.Equal((0, 1), ledger.DropAbandoned(Grace));
        Assert.Equal(0, ledger.InUse);
        Assert.Null(ledger.LeaseOf("r"));
    }

    [Fact]
    public void Delivered_GrantToDetachedWaiter_ReturnsFirstAskAndIsNotReleasedLater()
    {
        var ledger = CreateSut(1);
        var held = ledger.TryAcquire("a", 1, Ttl)!;
        var askedAt = _time.GetUtcNow();
        var waiter = ledger.Enqueue("b", 1, Ttl, requestId: "r", wait: TimeSpan.FromMinutes(1));
        ledger.Detach(waiter);
        _time.Advance(TimeSpan.FromSeconds(1));
        ledger.Release(held.LeaseId);

        Assert.Equal(askedAt, ledger.Delivered("r"));
        Assert.Null(ledger.Delivered("r"));
        _time.Advance(Grace);
        Assert.Equal((0, 0), ledger.DropAbandoned(Grace));
        Assert.Equal(1, ledger.InUse);
    }

    [Fact]
    public void DropAbandoned_GrantToAttachedWaiter_IsNeverReleasedByIt()
    {
        var ledger = CreateSut(1);
        var held = ledger.TryAcquire("a", 1, Ttl)!;
        ledger.Enqueue("b", 1, Ttl, requestId: "r", wait: TimeSpan.FromMinutes(1));
        ledger.Release(held.LeaseId);
        _time.Advance(Grace * 2);

        Assert.Equal((0, 0), ledger.DropAbandoned(Grace));
        Assert.Equal(1, ledger.InUse);
    }

    [Fact]
    public void Attach_WithACall_TheGrantCompletesTheCallWithTheLease()
    {
        var ledger = CreateSut(1);
        var held = ledger.TryAcquire("a", 1, Ttl)!;
        var waiter = ledger.Enqueue("b", 1, Ttl, requestId: "r", wait: TimeSpan.FromMinutes(1));
        var call = new TaskCompletionSource<Lease?>();
        waiter.Attach(call);

        ledger.Release(held.LeaseId);

        Assert.True(call.Task.IsCompletedSuccessfully);
        Assert.Equal(waiter.Task.Result, call.Task.Result);
    }

    [Fact]
    public void Attach_WithACallAfterTheGrant_TheCallHasTheLeaseAtOnce()
    {
        var ledger = CreateSut(1);
        var held = ledger.TryAcquire("a", 1, Ttl)!;
        var waiter = ledger.Enqueue("b", 1, Ttl, requestId: "r", wait: TimeSpan.FromMinutes(1));
        ledger.Detach(waiter);
        ledger.Release(held.LeaseId);
        var call = new TaskCompletionSource<Lease?>();

        waiter.Attach(call);

        Assert.Equal(waiter.Task.Result, call.Task.Result);
    }

    [Fact]
    public void Attach_WithACall_CancellingTheRequestCancelsTheCallAndStoppingFailsIt()
    {
        var ledger = CreateSut(1);
        ledger.TryAcquire("a", 1, Ttl);
        var cancelled = ledger.Enqueue("b", 1, Ttl, requestId: "r1", wait: TimeSpan.FromMinutes(1));
        var failed = ledger.Enqueue("c", 1, Ttl, requestId: "r2", wait: TimeSpan.FromMinutes(1));
        var (cancelledCall, failedCall) = (new TaskCompletionSource<Lease?>(), new TaskCompletionSource<Lease?>());
        cancelled.Attach(cancelledCall);
        failed.Attach(failedCall);

        ledger.CancelRequest("r1");
        ledger.StopGranting(() => new LimiterMovedException("test"));

        Assert.True(cancelledCall.Task.IsCanceled);
        Assert.IsType<LimiterMovedException>(failedCall.Task.Exception!.InnerException);
    }

    [Fact]
    public void Attach_ANewCall_TheEndedCallIsLeftAlone()
    {
        var ledger = CreateSut(1);
        var held = ledger.TryAcquire("a", 1, Ttl)!;
        var waiter = ledger.Enqueue("b", 1, Ttl, requestId: "r", wait: TimeSpan.FromMinutes(1));
        var ended = new TaskCompletionSource<Lease?>();
        waiter.Attach(ended);
        ended.SetResult(null); // its slice is over
        ledger.Detach(waiter);
        var next = new TaskCompletionSource<Lease?>();

        waiter.Attach(next);
        ledger.Release(held.LeaseId);

        Assert.Null(ended.Task.Result);
        Assert.Equal(waiter.Task.Result, next.Task.Result);
    }
}
