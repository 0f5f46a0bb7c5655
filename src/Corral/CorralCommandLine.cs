using System.CommandLine;
using Corral.Commands;
using Corral.Node.Apps;

namespace Corral;

/// <summary>The command tree: <c>up</c>, <c>node</c>, <c>validate</c>, <c>check</c>, <c>dashboard</c>, <c>prune</c>, <c>image</c>, <c>report</c>; <c>--help</c> everywhere, <c>--version</c>.</summary>
internal static class CorralCommandLine
{
    public static RootCommand Build(AppCatalog catalog)
    {
        var root = new RootCommand(
            "Corral runs small distributed systems — a coordinator and the workers it supervises — with one command.");
        root.Subcommands.Add(UpCommand.Create(catalog));
        root.Subcommands.Add(NodeCommand.Create(catalog));
        root.Subcommands.Add(ValidateCommand.Create(catalog));
        root.Subcommands.Add(CheckCommand.Create(catalog));
        root.Subcommands.Add(DashboardCommand.Create());
        root.Subcommands.Add(CredentialCommand.Create());
        root.Subcommands.Add(PruneCommand.Create());
        root.Subcommands.Add(ImageCommand.Create());
        root.Subcommands.Add(ReportCommand.Create(catalog));
        root.Subcommands.Add(RenderCommand.Create(catalog));
        return root;
    }
}
