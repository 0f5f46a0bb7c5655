using System.Text;
using Corral.Counter.Items;

namespace Corral.Counter.Tests.Items;

public sealed class ItemBatchParserTests
{
    private static ParsedBatch Parse(string json, int limit = 100) => ItemBatchParser.Parse(Encoding.UTF8.GetBytes(json), limit);

    [Fact]
    public void The_originals_sanity_batch_parses_in_order()
    {
        var parsed = Parse("""[{"id":"1","tenant":"t1"},{"id":"2","tenant":"t2"},{"id":"2","tenant":"t3"},{"id":"4", "tenant": "t1"}]""");
        Assert.Null(parsed.Problem);
        Assert.Equal([new("1", "t1"), new("2", "t2"), new("2", "t3"), new("4", "t1")], parsed.Items!);
    }

    [Fact]
    public void Fields_may_come_in_any_order_and_an_empty_array_is_an_empty_batch()
    {
        Assert.Equal([new Item("a", "t")], Parse("""[{"tenant":"t","id":"a"}]""").Items!);
        Assert.Empty(Parse("[]").Items!);
    }

    [Theory]
    [InlineData(0)] // in a field name
    [InlineData(1)] // in an id
    public void Invalid_utf8_in_a_field_is_malformed_json_not_an_exception(int where)
    {
        // Found by the HTTP fuzz: GetString threw InvalidOperationException, and POST /items answered 500.
        var body = Encoding.UTF8.GetBytes(where == 0 ? """[{"Xd":"a","tenant":"t1"}]""" : """[{"id":"X","tenant":"t1"}]""");
        body[Array.IndexOf(body, (byte)'X')] = 0xFF;

        var parsed = ItemBatchParser.Parse(body, 100);

        Assert.StartsWith("malformed JSON", parsed.Problem);
    }

    [Theory]
    [InlineData("""[{"id":"1","tenant":"t1"},{"id":5,"tenant":"t1"}]""", "item 1: id is a JSON number")]
    [InlineData("""[{"id":"1","tenant":""}]""", "item 0: tenant '' is empty")]
    [InlineData("""[{"id":"","tenant":"t"}]""", "item 0: id '' is empty")]
    [InlineData("""[{"id":"1","tenant":"../x"}]""", "item 0: tenant '../x' starts with '.' (a path-like name)")]
    [InlineData("""[{"id":"1","tenant":"a/../../x"}]""", "item 0: tenant 'a/../../x' contains '/' (a path-like name)")]
    [InlineData("""[{"id":"1","tenant":"a\\b"}]""", "contains '\\' (a path-like name)")]
    [InlineData("""[{"id":"a b","tenant":"t"}]""", "item 0: id 'a b' contains U+0020")]
    [InlineData("""[{"id":"1","tenant":"t","extra":1}]""", "item 0 has an unknown field 'extra'")]
    [InlineData("""[{"id":"1"}]""", "item 0 has no \"tenant\"")]
    [InlineData("""[{"id":"1","id":"2","tenant":"t"}]""", "item 0 has \"id\" twice")]
    [InlineData("""[{"id":null,"tenant":"t"}]""", "item 0: id is a JSON null")]
    [InlineData("""{"id":"1","tenant":"t"}""", "the body is a JSON object")]
    [InlineData("""[["1","t"]]""", "item 0 is a JSON array")]
    [InlineData("""[{"id":"1","tenant":"t"}""", "malformed JSON")]
    [InlineData("""[{"id":"1","tenant":"t"},]""", "malformed JSON")]
    [InlineData("""[] []""", "malformed JSON")]
    [InlineData("   ", "")]
    public void A_bad_batch_is_refused_naming_the_item_and_what_is_wrong(string json, string expected)
    {
        var parsed = Parse(json);
        Assert.Null(parsed.Items);
        Assert.Contains(expected, parsed.Problem);
    }

    [Fact]
    public void An_id_or_tenant_longer_than_the_limit_is_refused_with_the_limit()
    {
        var longest = new string('a', ItemRules.MaxLength);
        Assert.NotNull(Parse($$"""[{"id":"{{longest}}","tenant":"t"}]""").Items);
        var parsed = Parse($$"""[{"id":"1","tenant":"{{longest}}b"}]""");
        Assert.Contains($"item 0: tenant 'aaaa", parsed.Problem);
        Assert.Contains($"is {ItemRules.MaxLength + 1} characters long (at most {ItemRules.MaxLength})", parsed.Problem);
    }

    [Fact]
    public void A_batch_over_the_limit_is_refused_whole()
    {
        var items = string.Join(",", Enumerable.Range(0, 4).Select(i => $$"""{"id":"{{i}}","tenant":"t"}"""));
        Assert.Equal(4, Parse($"[{items}]", limit: 4).Items!.Count);
        var parsed = Parse($"[{items}]", limit: 3);
        Assert.Null(parsed.Items);
        Assert.Contains("more than 3 items (the limit)", parsed.Problem);
    }

    [Fact]
    public void What_the_writer_writes_the_parser_reads_back()
    {
        Item[] items = [new("1", "t1"), new("x:y@z", "tenant-2.b")];
        Assert.Equal(items, ItemBatchParser.Parse(ItemBatchWriter.Write(items), 10).Items!);
    }
}
