using System.CommandLine;
using Corral.Bench;

var root = new RootCommand("Corral's benchmark scenarios; each prints its figures as one Markdown table row.");
root.Subcommands.Add(StartupScenario.Command());
root.Subcommands.Add(ClusterScenario.Command());
root.Subcommands.Add(MemoryScenario.Command());
root.Subcommands.Add(PeerScenario.Command());
root.Subcommands.Add(RegistrationScenario.Command());
return await root.Parse(args).InvokeAsync();
