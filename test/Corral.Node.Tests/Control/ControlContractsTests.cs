using System.Text.Json;
using Corral.Node.Control;

namespace Corral.Node.Tests.Control;

/// <summary>The control API's state names are one documented list, spelled the same on the wire.</summary>
public sealed class ControlContractsTests
{
    [Fact]
    public void Node_and_member_states_have_their_documented_json_names()
    {
        string[] documented = ["pending", "starting", "ready", "unhealthy", "backingOff", "draining", "stopped", "exited", "failed"];

        Assert.Equal(documented, Enum.GetValues<NodeState>().Select(s => JsonSerializer.Serialize(s, JsonSerializerOptions.Web).Trim('"')));
        Assert.Equal(["ready", "draining"], Enum.GetValues<MemberState>().Select(s => JsonSerializer.Serialize(s, JsonSerializerOptions.Web).Trim('"')));
        Assert.Equal(NodeState.BackingOff, JsonSerializer.Deserialize<NodeState>("\"backingOff\"", JsonSerializerOptions.Web));

        var readme = File.ReadAllText(Path.Combine(RepoRoot(), "README.md"));
        Assert.All(documented, name => Assert.Contains($"`{name}`", readme));
    }

    [Fact]
    public void A_member_reads_as_ready_unless_it_says_draining()
    {
        var json = JsonSerializer.Serialize(new MembershipSnapshot(3, [
            new Member("w-1", "r", new Dictionary<string, string>()) { Instance = 2 },
            new Member("w-2", "r", new Dictionary<string, string>()) { State = MemberState.Draining },
        ]), JsonSerializerOptions.Web);
        Assert.Contains("\"state\":\"draining\"", json);

        var snapshot = JsonSerializer.Deserialize<MembershipSnapshot>(json, JsonSerializerOptions.Web)!;
        Assert.Equal(["w-1"], snapshot.OfRole("r").Select(m => m.NodeId));
        Assert.Equal(["w-2"], snapshot.DrainingOf("r").Select(m => m.NodeId));
        Assert.Equal(2, snapshot.Members[0].Instance);
    }

    private static string RepoRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Corral.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new DirectoryNotFoundException("no Corral.slnx above " + AppContext.BaseDirectory);
    }
}
