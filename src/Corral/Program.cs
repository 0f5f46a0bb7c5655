using System.CommandLine;
using Corral;

// Signals are handled where a command needs them (a node drains through its host, `up` drains its nodes),
// so the parser's own Ctrl+C handling, which would end the process after two seconds, stays off.
var configuration = new InvocationConfiguration { ProcessTerminationTimeout = null };
return await CorralCommandLine.Build(AppRegistry.CreateCatalog()).Parse(args).InvokeAsync(configuration);
