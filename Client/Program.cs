using System.Runtime.InteropServices;
using Floodgate.Cli;
using Floodgate.Cli.Connection;
using Floodgate.Cli.Output;

using var interrupted = new CancellationTokenSource();

// The first Ctrl+C (or SIGTERM) cancels the command, which then exits 130; a second one ends the process at once.
Console.CancelKeyPress += (_, e) =>
{
    if (!interrupted.IsCancellationRequested)
    {
        e.Cancel = true;
        interrupted.Cancel();
    }
};
using var termination = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    interrupted.Cancel();
});

await using var clients = new CliClientProvider();
var terminal = new Terminal(Console.Out, Console.Error, !Console.IsOutputRedirected, !Console.IsErrorRedirected) { In = Console.In };
return await FloodgateCli.RunAsync(args, clients, terminal, TimeProvider.System, interrupted.Token);
