using System.Buffers;
using System.Text.Json;

namespace Corral.Counter.Items;

/// <summary>Writes items as the wire format the parser reads; the buffer is whole before it is sent, so a retry resends all of it.</summary>
public static class ItemBatchWriter
{
    public static byte[] Write(IEnumerable<Item> items)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var item in items)
            {
                writer.WriteStartObject();
                writer.WriteString("id"u8, item.Id);
                writer.WriteString("tenant"u8, item.Tenant);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
