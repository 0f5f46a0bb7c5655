using Corral.Node.Topology;
using Corral.WorkQueue.Config;

namespace Corral.WorkQueue.Tests.Config;

/// <summary>The spec list is expanded exactly as the original expanded it; what the original got silently wrong is an error.</summary>
public sealed class SpecListTests
{
    private static (IReadOnlyList<TaskDefinition>? Tasks, TopologyDiagnostics Diagnostics, List<string> Skipped) Expand(string json)
    {
        var diagnostics = new TopologyDiagnostics();
        var skipped = new List<string>();
        var root = (TopologyMapping)TopologyParser.Parse(json, "spec_context_map.json");
        var tasks = SpecList.Read(new MappingReader(root, diagnostics), WorkQueueConfig.DefaultInvalid, diagnostics, skipped);
        return (tasks, diagnostics, skipped);
    }

    [Fact]
    public void The_originals_fixture_expands_to_alpha_with_seven_tasks_in_its_order_and_beta_with_one()
    {
        var (tasks, diagnostics, skipped) = Expand(File.ReadAllText(Repo.File("examples", "originals", "workqueue-004-spec_context_map.json")));

        Assert.Empty(diagnostics.Errors);
        Assert.Equal(
        [
            ("task:alpha:0", "alpha_spec_01.spec.ts", "desktop", "chrome"),
            ("task:alpha:1", "alpha_spec_01.spec.ts", "desktop", "firefox"),
            ("task:alpha:2", "alpha_spec_01.spec.ts", "desktop", "webkit"),
            ("task:alpha:3", "alpha_spec_01.spec.ts", "mobile", "chrome"),
            ("task:alpha:4", "alpha_spec_01.spec.ts", "mobile", "webkit"),
            ("task:alpha:5", "alpha_spec_02.spec.ts", "mobile", "chrome"),
            ("task:alpha:6", "alpha_spec_02.spec.ts", "mobile", "webkit"),
            ("task:beta:0", "beta_spec_01.spec.ts", "mobile", "webkit"),
        ], tasks!.Select(t => (t.Key, t.Spec, t.Viewport, t.Browser)));
        Assert.Equal(Enumerable.Range(0, 8), tasks!.Select(t => t.Ordinal));
        Assert.Equal(["Skipping alpha_spec_01.spec.ts : firefox : mobile , as an invalid task matrix combination"], skipped);
    }

    [Fact]
    public void The_originals_own_groupName_spelling_names_the_groups_instead_of_colliding_on_empty_names()
    {
        var (tasks, diagnostics, _) = Expand("""
            {"groups": [{"groupName": "search", "tasks": [{"spec": "a.spec.ts", "viewports": ["desktop"], "browsers": ["chrome"]}]},
                        {"groupName": "stores", "tasks": [{"spec": "b.spec.ts", "viewports": ["desktop"], "browsers": ["chrome"]}]}]}
            """);

        Assert.Empty(diagnostics.Errors);
        Assert.Equal(["task:search:0", "task:stores:0"], tasks!.Select(t => t.Key));
    }

    [Theory]
    [InlineData("""{"groups": []}""", "groups is empty")]
    [InlineData("""{"groups": "x"}""", "groups must be a list")]
    [InlineData("""{"other": 1}""", "groups must be a list")]
    [InlineData("""{"groups": [{"name": "a", "tasks": []}]}""", "tasks must be a non-empty list")]
    [InlineData("""{"groups": [{"name": "a", "tasks": [{"spec": "x", "viewports": [], "browsers": ["chrome"]}]}]}""", "viewports must be a non-empty list")]
    [InlineData("""{"groups": [{"name": "a", "tasks": [{"spec": "../x", "viewports": ["desktop"], "browsers": ["chrome"]}]}]}""", "must be a relative path inside the spec root")]
    [InlineData("""{"groups": [{"name": "a b", "tasks": [{"spec": "x", "viewports": ["desktop"], "browsers": ["chrome"]}]}]}""", "is not a valid group name")]
    [InlineData("""{"groups": [{"name": "a", "tasks": [{"spec": "x", "viewports": ["mobile"], "browsers": ["firefox"]}]}]}""", "expands to no task")]
    public void A_malformed_or_empty_list_is_an_error_naming_what_is_wrong(string json, string expected)
    {
        var (tasks, diagnostics, _) = Expand(json);

        Assert.Null(tasks);
        Assert.Contains(diagnostics.Errors, e => e.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void A_repeated_group_name_is_an_error_pointing_at_the_first()
    {
        var (tasks, diagnostics, _) = Expand("""
            {"groups": [
              {"name": "a", "tasks": [{"spec": "x", "viewports": ["desktop"], "browsers": ["chrome"]}]},
              {"name": "a", "tasks": [{"spec": "y", "viewports": ["desktop"], "browsers": ["chrome"]}]}]}
            """);

        Assert.Null(tasks);
        var error = Assert.Single(diagnostics.Errors);
        Assert.Contains("'a' is already the name of the group at spec_context_map.json:2:", error.Message);
        Assert.Equal(3, error.Position.Line);
    }
}
