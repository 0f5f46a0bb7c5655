namespace Corral.Counter.Items;

/// <summary>One counted thing: an id, distinct per tenant.</summary>
public readonly record struct Item(string Id, string Tenant);
